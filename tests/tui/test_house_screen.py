"""The desk's statistics screen (key `s`): the house's figures, as `moderator calibrate` prints them."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from moderator.records import Action
from moderator.store import Queue
from moderator.tui.app import ModeratorApp
from moderator.tui.screens.house import HouseScreen
from tests.tui.fixtures import settle
from tests.tui.helpers import static_text

SIZE = (120, 50)


async def test_statistics_key_shows_the_house_figures(app: ModeratorApp, other: Queue) -> None:
    other.decide("c1", Action.APPROVE, "bob")
    other.decide("c4", Action.APPROVE, "client:coral")  # a comment system's decision counts as human
    other.decide("c2", Action.REJECT, "bob")
    other.decide("c3", Action.REJECT, "auto:default")  # a policy's: left out
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, HouseScreen)
        shown = static_text(app, "#house-report")
        assert "3 human decisions (2 approved, 1 rejected)" in shown
        assert "toxicity: 3 decisions (2 approved, 1 rejected), ROC-AUC 1.000" in shown
        assert "(too few: " in shown and " of ~189)" in shown  # the reject edge 0.98, on 3 decisions
        assert "toxicity by decision (+ approved, # rejected)" in shown
        plots = list(app.screen.query(PlotextPlot))
        assert [plot.id for plot in plots if plot.display] == ["house-precision-recall", "house-reliability"]
        app.screen.query_one("#house").scroll_end(animate=False)
        await settle(pilot)
        drawn = app.export_screenshot()
        assert "Precision-recall" in drawn and "Reliability" in drawn and "toxicity" in drawn
        await pilot.press("escape")
        assert not isinstance(app.screen, HouseScreen)


async def test_statistics_say_what_is_missing(app: ModeratorApp, other: Queue) -> None:
    other.decide("c1", Action.APPROVE, "bob")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert "only one class: 1 approvals and no rejections" in static_text(app, "#house-report")
        assert not any(plot.display for plot in app.screen.query(PlotextPlot))  # no curves without both classes
