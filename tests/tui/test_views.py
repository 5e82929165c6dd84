"""Pilot tests of what the desk shows: filters, search, literal data, live refresh, help, palette."""

from __future__ import annotations

from textual.pilot import Pilot

from moderator.policy import risk_score
from moderator.records import Action, Comment
from moderator.scoring.fake import FakeScorer
from moderator.store import Queue, QueueFilter
from moderator.tui.app import ModeratorApp, make_app
from moderator.tui.screens.desk import DeskScreen
from moderator.tui.screens.help import HelpScreen
from moderator.tui.widgets.queue_list import QueueList
from tests.tui.fixtures import settle
from tests.tui.helpers import current_id, row_texts, shown_ids, static_text, status_text, toasts

SIZE = (120, 36)


async def test_filter_cycles_through_statuses(app: ModeratorApp, other: Queue) -> None:
    other.decide("c1", Action.APPROVE, "bob")
    other.decide("c5", Action.QUEUE, "policy", rule="toxicity>=0.3")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(shown_ids(app)) == 6 and "open" in status_text(app)
        seen = {}
        for name in ("pending", "flagged", "decided", "all", "open"):
            await pilot.press("f")
            await settle(pilot)
            seen[name] = shown_ids(app)
            assert f"shown: {name}" in status_text(app)
        assert seen["flagged"] == ["c5"]
        assert seen["decided"] == ["c1"]
        assert "c5" not in seen["pending"] and "c1" not in seen["pending"]
        assert seen["all"] == [i.comment.id for i in other.items(QueueFilter())]
        assert len(seen["open"]) == 6


async def test_label_and_article_filters(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        # the default policy's review edges: toxicity 0.25, off-topic 0.45
        want = other.items(QueueFilter(status="open", label="toxicity", label_min=0.25))
        assert shown_ids(app) == [i.comment.id for i in want]
        assert set(shown_ids(app)) == {"c2", "c5", "c7"}
        assert "toxicity ≥ 0.25" in status_text(app)
        await pilot.press("l")  # off-topic >= 0.45
        await settle(pilot)
        want = other.items(QueueFilter(status="open", label="off_topic", label_min=0.45))
        assert shown_ids(app) == [i.comment.id for i in want]
        assert "c3" in shown_ids(app) and not {"c1", "c4"} & set(shown_ids(app))  # the football comment, no on-topic
        await pilot.press("l", "j", "j", "i")  # no label; third row's article only
        await settle(pilot)
        assert set(shown_ids(app)) == {"c5", "c6", "c7"}
        assert "Bahn streicht" in status_text(app)
        await pilot.press("i")
        await settle(pilot)
        assert len(shown_ids(app)) == 7


async def test_label_filter_and_high_marks_follow_the_policy_review_edges(db_path, fixed_clock, other: Queue) -> None:
    from moderator.policy import Band, Policy
    from moderator.tui.app import make_app

    strict = Policy(bands={"toxicity": Band(0.1), "off_topic": Band(0.1)})
    app = make_app(db_path, "alice", clock=fixed_clock, policy=strict)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        want = other.items(QueueFilter(status="open", label="toxicity", label_min=0.1))
        assert shown_ids(app) == [i.comment.id for i in want] and len(want) > 1  # more than at the default edge
        assert "toxicity ≥ 0.1" in status_text(app)


async def search(pilot: Pilot, text: str) -> None:
    """Open the search box and type ``text``; the search runs after a short pause in typing."""
    await pilot.press("slash", *text)
    await pilot.pause(0.4)
    await settle(pilot)


async def test_incremental_search_and_escape(app: ModeratorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "trott")
        assert shown_ids(app) == ["c7"]
        assert "“trott”" in status_text(app)
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace", *"kopf")
        await pilot.pause(0.4)
        await settle(pilot)
        assert set(shown_ids(app)) == {"c2", "c7"}
        await pilot.press("escape")
        await settle(pilot)
        assert len(shown_ids(app)) == 7
        assert isinstance(app.focused, QueueList)


async def test_markup_and_escapes_in_data_show_literally(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "j")
        await settle(pilot)
        assert current_id(app) == "c6"
        body = static_text(app, "#comment-body")
        assert "[bold red]PWNED[/] \\x1b[31m [link=https://evil.example]click[/link]" in body
        assert "\x1b" not in body
        head = static_text(app, "#comment-head")
        assert "[red]mallory[/]" in head and "\\x1b[2Jtitle" in head and "\x1b" not in head
        s = other.get("c6").scores  # the passage's own score sits beside the whole comment's
        assert f"off-topic {s.off_topic:.2f} (passage {s.passage_off_topic:.2f})" in head
        row = row_texts(app)[2]
        assert "[red]mallory[" in row
        # nothing was interpreted: no link, no bold red span came from the data
        strip = app.screen.query_one(QueueList).render_line(2)
        assert all(seg.style is None or seg.style.link is None for seg in strip)


async def test_new_comments_appear_without_restart_keeping_cursor(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        assert current_id(app) == "c3"
        article = other.article("a-wind")
        new = Comment(
            id="c9",
            article_id="a-wind",
            number=9,
            author="neu",
            posted_at="2026-11-02T09:25:00Z",
            text="Ihr Idioten, dumm und hirnlos ist das alles, Trottel!",
        )
        other.add([], [new])
        scores = FakeScorer().score([(new, article)])[0]
        other.save_scores([("c9", scores, risk_score(scores))])
        desk = app.screen
        assert isinstance(desk, DeskScreen)
        desk._poll()
        await settle(pilot)
        assert "c9" in shown_ids(app)
        assert current_id(app) == "c3"
        assert "pending 8" in status_text(app)


async def test_detail_shows_thread_article_and_author_history(app: ModeratorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(4):
            await pilot.press("j")
        await settle(pilot)
        assert current_id(app) == "c7"
        thread = static_text(app, "#comment-thread")
        assert "In reply to" in thread and "pendler" in thread
        assert "Author's recent comments" in static_text(app, "#author-history")
        article = static_text(app, "#article-text")
        assert "Bahn streicht Nachtzüge" in article and "Ab Dezember" not in article
        await pilot.press("o")
        await settle(pilot)
        assert "Ab Dezember fährt kein Nachtzug mehr." in static_text(app, "#article-text")


async def test_help_lists_every_key(app: ModeratorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        keys = dict((desc, key) for key, desc in app.screen.rows)
        for desc, key in {
            "Approve": "a",
            "Reject": "r",
            "Undo": "u",
            "Note": "n",
            "Select": "space",
            "Approve sel": "A",
            "Reject sel": "R",
            "Filter": "f",
            "Search": "/",
            "Quit": "q",
        }.items():
            assert key in keys[desc]
        assert "j" in keys["Next"] and "k" in keys["Previous"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)


async def test_command_palette_sets_filter(app: ModeratorApp, other: Queue) -> None:
    other.decide("c1", Action.APPROVE, "bob")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Filter: decided")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert shown_ids(app) == ["c1"]


async def test_refresh_on_same_comment_updates_detail_without_reselecting(app: ModeratorApp, other: Queue) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        desk = app.screen
        assert isinstance(desk, DeskScreen)
        shown: list[object] = []
        desk._show_detail = shown.append  # type: ignore[method-assign]
        other.note("c2", "bob", "looks like a repeat offender")
        desk._poll()
        await settle(pilot)
        assert shown == []  # the cursor did not move: no re-selection, no new claim, no scroll reset
        assert "looks like a repeat offender" in static_text(app, "#comment-thread")
        assert current_id(app) == "c2"


async def test_search_text_with_markup_is_shown_literally(app: ModeratorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "[red]mall")
        assert shown_ids(app) == ["c6"]  # the author is literally "[red]mallory[/]"
        assert "“[red]mall”" in status_text(app)
        assert any("[red]mall" in message for message in toasts(app))


async def test_empty_queue_says_so_and_refuses_decisions(tmp_path, fixed_clock) -> None:  # noqa: ANN001
    app = make_app(tmp_path / "empty.db", "alice", clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_ids(app) == [] and current_id(app) is None
        assert "Nothing to review" in static_text(app, "#comment-head")
        await pilot.press("a", "u")
        await settle(pilot)
        assert any("No comment selected" in t for t in toasts(app))
        assert any("nothing of alice's to undo" in t for t in toasts(app))


async def test_words_left_for_later_say_how_to_get_them(app: ModeratorApp, other: Queue) -> None:
    """A comment scored over the threshold but decided without a person has its words computed on demand."""
    from dataclasses import replace

    top = other.require("c2")
    assert top.scores is not None
    pending = replace(top.scores, toxic_words=(), words_pending=True)
    other.save_scores([("c2", pending, risk_score(pending))])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert current_id(app) == "c2"
        assert "toxic words not computed yet: moderator show c2" in static_text(app, "#comment-head")
        await pilot.press("j")
        await settle(pilot)
        assert "not computed" not in static_text(app, "#comment-head")


def leave_words_pending(queue: Queue, *comment_ids: str) -> None:
    """As `flag` leaves them: scored over the threshold, words to be computed when a person reads them."""
    from dataclasses import replace

    for comment_id in comment_ids:
        scores = queue.require(comment_id).scores
        assert scores is not None
        pending = replace(scores, toxic_words=(), words_pending=True)
        queue.save_scores([(comment_id, pending, risk_score(pending))])


async def test_opening_a_comment_computes_its_words_marks_them_and_stores_them(
    db_path,
    fixed_clock,
    other: Queue,  # noqa: ANN001
) -> None:
    """Words left pending by scoring are computed when the comment is opened, shown, and stored; the next rows'
    too, so moving down finds them ready. Each comment's words are computed once."""
    from moderator.desk import WordsOnOpen

    asked: list[list[str]] = []

    def words_of(pairs):  # noqa: ANN001, ANN202 - a deterministic stand-in for the model: its longest word
        asked.append([c.id for c, _ in pairs])
        return [(max(c.text.split(), key=len).strip(".,!?"),) for c, _ in pairs]

    order = [other.require(i) for i in ("c2", "c1", "c3", "c4")]
    leave_words_pending(other, *(item.comment.id for item in order))
    app = make_app(db_path, "alice", clock=fixed_clock, words=WordsOnOpen(lambda: words_of))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = current_id(app)
        assert first is not None
        expected = max(other.require(first).comment.text.split(), key=len).strip(".,!?")
        assert other.require(first).scores.toxic_words == (expected,)  # stored
        head = static_text(app, "#comment-head")
        assert "not computed" not in head and "finding the words" not in head and "toxic words" in head
        assert asked[0] == [first]  # the opened comment alone first, then the next rows
        ahead = [i for batch in asked[1:] for i in batch]
        await pilot.press("j")
        await settle(pilot)
        second = current_id(app)
        assert second in ahead and other.require(second).scores.toxic_words  # computed ahead, not again
        assert [i for batch in asked for i in batch].count(second) == 1
        assert "not computed" not in static_text(app, "#comment-head")


async def test_words_the_model_cannot_give_say_why_once_and_the_desk_goes_on(
    db_path,
    fixed_clock,
    other: Queue,  # noqa: ANN001
) -> None:
    from moderator.desk import WordsOnOpen

    loads = []

    def load():  # noqa: ANN202
        loads.append(1)
        raise FileNotFoundError("no base model: run `moderator model prepare`")

    leave_words_pending(other, "c2", "c1")
    app = make_app(db_path, "alice", clock=fixed_clock, words=WordsOnOpen(load))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "toxic words unavailable here (no base model" in static_text(app, "#comment-head")
        assert any("toxic words unavailable" in t for t in toasts(app))
        await pilot.press("j", "k", "a")  # the desk goes on: move, decide
        await settle(pilot)
        assert len(loads) == 1  # not retried on every comment
        assert other.require("c2").scores.words_pending  # nothing stored

    other.undo("alice", "c2")  # pending again, on top
    quiet = make_app(db_path, "alice", clock=fixed_clock, words=WordsOnOpen(lambda: None))  # names no words
    async with quiet.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "toxic words unavailable here (the model in use names no words)" in static_text(quiet, "#comment-head")


async def test_the_house_label_joins_the_filters_once_scores_carry_it(app: ModeratorApp, other: Queue) -> None:
    """A model adapted to the house adds its own score; the desk then filters by it too (and not before)."""
    from dataclasses import replace

    for comment_id, house in (("c1", 0.9), ("c4", 0.2)):
        scores = other.require(comment_id).scores
        assert scores is not None
        adapted = replace(scores, labels={**scores.labels, "house": house})
        other.save_scores([(comment_id, adapted, risk_score(adapted))])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l", "l", "l")  # toxicity, off-topic, then the house's line
        await settle(pilot)
        assert "house ≥ 0.5" in status_text(app)
        assert shown_ids(app) == ["c1"]  # risk now orders by the house's score too
        await pilot.press("l")  # back to no label
        await settle(pilot)
        assert len(shown_ids(app)) == 7


async def test_without_house_scores_the_label_cycle_has_no_house(app: ModeratorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l", "l", "l")  # toxicity, off-topic, back to none
        await settle(pilot)
        assert "≥" not in status_text(app) and len(shown_ids(app)) == 7


async def test_off_topic_not_judged_shows_as_such_never_as_zero(app: ModeratorApp, other: Queue) -> None:
    """A comment `serve` took without its article: the row says n/a, the detail says not judged."""
    from moderator.records import NO_ARTICLE_ID, OFF_TOPIC_NOT_JUDGED, Article, Scores

    placeholder = Article(id=NO_ARTICLE_ID, headline=f"(sent without an article: {OFF_TOPIC_NOT_JUDGED})")
    alone = Comment(id="c0", article_id=NO_ARTICLE_ID, text="Was für ein Quatsch.", posted_at="2026-11-02T09:00:00Z")
    other.add([placeholder], [alone])
    scores = Scores(toxicity=0.97, off_topic=None, model_version="m+fp32")
    other.save_scores([("c0", scores, risk_score(scores))])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        ids = shown_ids(app)
        at = ids.index("c0")
        risks = [risk_score(other.require(i).scores) for i in ids]  # toxicity alone orders it among the rest
        assert min(risks[:at]) >= 0.97 > max(risks[at + 1 :])
        row = row_texts(app)[at]
        assert "n/a" in row and ".00" not in row
        for _ in range(at):
            await pilot.press("j")
        await settle(pilot)
        assert current_id(app) == "c0"
        head = static_text(app, "#comment-head")
        assert f"toxicity 0.97 · {OFF_TOPIC_NOT_JUDGED} ·" in head and "off-topic 0.00" not in head
