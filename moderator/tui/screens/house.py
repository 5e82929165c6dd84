"""The house's statistics (key `s`): how the scores separate what this desk's moderators approved and rejected.

The same figures as `moderator calibrate` (moderator.house, read in a thread worker on its own connection):
per label ROC-AUC, precision and recall at the policy's bands, counts, warnings where too few decisions back a
figure, text histograms of the scores by decision, and the precision-recall and reliability curves that
`calibrate --plot` draws, in the terminal (textual-plotext).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static
from textual_plotext import PlotextPlot

from moderator.house import HouseError, house_report, human_decisions
from moderator.house.figures import HouseReport, label_values, precision_recall, reliability
from moderator.house.render import report_lines

Curves = dict[str, tuple[list[float], list[float]]]  # label -> (x, y)

if TYPE_CHECKING:
    from moderator.tui.app import ModeratorApp


class HouseScreen(ModalScreen[None]):
    """A modal report; Escape, q or s closes it."""

    BINDINGS = [Binding("escape,q,s", "dismiss", "Close", id="house_close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="house"):
            yield Static(Text("Reading the house's decisions…", style="dim"), id="house-report")
            yield PlotextPlot(id="house-precision-recall", classes="house-plot")
            yield PlotextPlot(id="house-reliability", classes="house-plot")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        app: ModeratorApp = self.app  # type: ignore[assignment]
        pr: Curves = {}
        calibration: Curves = {}
        with app.worker_queue() as queue:
            try:
                report = house_report(human_decisions(queue), app.policy)
                text = Text("The house's line\n\n", style="bold")
                text.append("\n".join(report_lines(report, histograms=True)))
                pr, calibration = curves(report)
            except HouseError as exc:
                text = Text(f"The house's line\n\n{exc}.", style="bold")
        app.call_from_thread(self.show, text, pr, calibration)

    def show(self, text: Text, pr: Curves, calibration: Curves) -> None:
        self.query_one("#house-report", Static).update(text)
        for plot_id, lines, title, xlabel, ylabel in (
            ("#house-precision-recall", pr, "Precision-recall", "recall", "precision"),
            (
                "#house-reliability",
                calibration,
                "Reliability: score against the house's rejections",
                "score",
                "share rejected",
            ),
        ):
            widget = self.query_one(plot_id, PlotextPlot)
            widget.display = bool(lines)
            plt = widget.plt
            plt.clear_figure()
            for label, (xs, ys) in lines.items():
                plt.plot(xs, ys, label=label, marker="braille")
            plt.title(title)
            plt.xlabel(xlabel)
            plt.ylabel(ylabel)
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            widget.refresh()


def curves(report: HouseReport) -> tuple[Curves, Curves]:
    """(precision-recall, reliability) points per label that separates the decisions, as the PNG plots draw."""
    pr: Curves = {}
    calibration: Curves = {}
    for figures in report.labels:
        if figures.roc_auc is None:
            continue
        s, rejected = label_values(report.found.decisions, figures.label)
        precision, recall = precision_recall(s, rejected)
        pr[figures.label] = (recall.tolist(), precision.tolist())
        calibration[figures.label] = reliability(s, rejected)
    return pr, calibration
