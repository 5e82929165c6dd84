"""Policy: how scores turn into a risk order and into automatic decisions.

The risk order lives here, and only here, so `moderator list`, the TUI and `moderator flag` agree on it.
"""

from __future__ import annotations

from moderator.records import Scores


def risk_score(scores: Scores) -> float:
    """The queue's sort key, highest first: the worst of the headline and fine labels.

    A comment is as risky as its worst problem; an insult and an off-topic rant both need a human soon,
    so the maximum (not a sum) orders the queue. Ties are broken by the store (older first).
    """
    return max([scores.toxicity, scores.off_topic, *scores.labels.values()])
