"""Learn the house's line: how the model's scores separate what this newsroom's moderators approved and rejected.

Headless (numpy, the store and the policy; no torch, no textual), so the CLI (`moderator calibrate`,
`moderator policy test`), the desk's statistics screen and training (`train --from-decisions`) read the same
figures. ``decisions`` reads the human decisions, ``figures`` measures and recommends bands, ``replay`` runs a
policy over decided comments, ``render`` writes text and policy TOML; ``plots`` (matplotlib, optional) draws.
"""

from __future__ import annotations

from moderator.house.decisions import HouseError, HumanDecision, human_decisions
from moderator.house.figures import HouseReport, LabelFigures, Targets, house_report
from moderator.house.replay import Replay, replay_policy

__all__ = [
    "HouseError",
    "HouseReport",
    "HumanDecision",
    "LabelFigures",
    "Replay",
    "Targets",
    "house_report",
    "human_decisions",
    "replay_policy",
]
