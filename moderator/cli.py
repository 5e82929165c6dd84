"""The command line: a thin click face over the core (ingest, store, scoring, policy, export).

Heavy imports (torch, transformers, textual) happen inside the commands that need them, so `moderator --help`
and `moderator list` start fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import IntEnum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from moderator import __version__
from moderator.config import DEFAULT_DATA_DIR, DEFAULT_PAGES_DIR, Settings, load_settings
from moderator.records import OFF_TOPIC_NOT_JUDGED, STATUS_FILTER_NAMES
from moderator.textsafe import one_line, printable

if TYPE_CHECKING:
    from moderator.desk import Desk
    from moderator.records import Decision

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # some input was rejected, or a request was refused
    USAGE = 2
    FLAGGED = 4  # `flag --fail-on-flagged` queued or rejected something
    INTERRUPTED = 130


def notice(message: str) -> None:
    """Progress and notices go to stderr so stdout stays clean for --json.

    Notices quote input (file names, CSV headers, ids, field values): control codes are made visible, so a
    hostile file cannot retitle or clear the operator's terminal.
    """
    click.echo(printable(message), err=True)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=None))


def common_options(func: F) -> F:
    """--db and --config on every command that touches the queue; settings resolved once, here."""

    @click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Queue database (default: queue.db, or $MODERATOR_DB).",
    )
    @click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Config file (default: ./moderator.toml, or $MODERATOR_CONFIG).",
    )
    @wraps(func)
    def wrapper(*args: Any, db: Path | None, config_file: Path | None, **kwargs: Any) -> Any:
        names = ("moderator", "model", "batch_size", "policy", "precision")
        flags = {k: kwargs.pop(k) for k in names if k in kwargs}
        try:
            settings = load_settings(config_file, db=db, **flags)
        except (OSError, ValueError) as exc:
            raise click.UsageError(str(exc)) from exc
        return func(*args, settings=settings, **kwargs)

    return wrapper  # type: ignore[return-value]


def since_option(func: F) -> F:
    return click.option("--since", default=None, help="Only decisions taken at or after this date/time (UTC ISO).")(
        func
    )


class Fail(click.ClickException):
    """A refused request: message on stderr, exit code 1."""

    exit_code = ExitCode.ERROR


def open_queue(settings: Settings, *, write: bool = True) -> Any:
    """The queue at ``settings.db``; a file that is not a queue database is refused with its path.

    ``write=False`` for commands that only read: they neither create a queue nor migrate one.
    """
    import sqlite3

    from moderator.store import Queue, StoreError, open_db

    try:
        return Queue(open_db(settings.db, write=write))
    except StoreError as exc:
        raise Fail(str(exc)) from exc
    except sqlite3.DatabaseError as exc:
        raise Fail(f"{settings.db}: not a usable queue database ({exc})") from exc


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="moderator")
def main() -> None:
    """moderator: a terminal-first, German-first, article-aware comment moderation desk.

    Typical day: `ingest` comments with their article, `score` (or `flag`) them, `review` the queue in the
    TUI, `export` the moderation log.
    """


# -- ingest ---------------------------------------------------------------------------------------------------
@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["forum", "jsonl", "csv"]),
    default=None,
    help="Input format (default: detected from the content).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@common_options
def ingest(paths: tuple[Path, ...], fmt: str | None, as_json: bool, settings: Settings) -> None:
    """Add comments (with their articles) from forum page dumps, JSONL or CSV files.

    Re-ingesting the same input adds nothing. Bad records are reported as FILE:LINE: reason and skipped;
    the good records of the same file are stored, and the exit code is then 1.
    """
    from moderator.ingest import read_source

    queue = open_queue(settings)
    summary: list[dict[str, Any]] = []
    rejected_total = 0
    for path in paths:
        if not path.is_file():  # reported like a bad record: the other files are still read and stored
            notice(f"{path}: not a readable file")
            rejected_total += 1
            summary.append({"path": str(path), "error": "not a readable file"})
            continue
        try:
            parsed = read_source(path, fmt)
        except (OSError, ValueError) as exc:
            notice(f"{path}: {exc}")
            rejected_total += 1
            summary.append({"path": str(path), "error": str(exc)})
            continue
        for bad in parsed.rejected:
            notice(str(bad))
        result = queue.add(parsed.articles, parsed.comments)
        for comment, stored_at in result.conflicts:
            notice(
                f"{comment.source}: field 'id': {comment.id!r} already names a different comment "
                f"(from {stored_at}); not stored"
            )
        rejected = len(parsed.rejected) + len(result.conflicts)
        rejected_total += rejected
        summary.append(
            {
                "path": str(path),
                "format": parsed.format,
                "comments": len(parsed.comments),
                "new_comments": result.new_comments,
                "already_present": result.unchanged_comments,
                "new_articles": result.new_articles,
                "rejected": rejected,
            }
        )
        notice(
            f"{path} ({parsed.format}): {result.new_comments} new, {result.unchanged_comments} already "
            f"present, {rejected} rejected"
        )
    if as_json:
        emit_json({"files": summary, "rejected": rejected_total})
    if rejected_total:
        sys.exit(ExitCode.ERROR)


# -- list / show ----------------------------------------------------------------------------------------------
STATUS_OPTION = click.Choice(STATUS_FILTER_NAMES)


@main.command("list")
@click.option("--status", type=STATUS_OPTION, default="all", show_default=True, help="Which comments.")
@click.option("--article", "article_id", default=None, help="Only comments under this article id.")
@click.option("--author", default=None, help="Only comments by this author.")
@click.option("--label", default=None, help="Only comments scoring >= --min on this label (toxicity, off_topic, ...).")
@click.option("--min", "label_min", type=float, default=0.5, show_default=True)
@click.option("--search", default=None, help="Case-insensitive text search in text, title and author.")
@click.option("--limit", type=int, default=None, help="At most this many (default: 50 as a table, all with --json).")
@click.option("--offset", type=int, default=0)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of comments.")
@common_options
def list_(
    status: str,
    article_id: str | None,
    author: str | None,
    label: str | None,
    label_min: float,
    search: str | None,
    limit: int | None,
    offset: int,
    as_json: bool,
    settings: Settings,
) -> None:
    """The queue in risk order (highest risk first, unscored last)."""
    from moderator.store import QueueFilter

    queue = open_queue(settings, write=False)
    flt = QueueFilter(
        status=status, article_id=article_id, author=author, label=label, label_min=label_min, search=search
    )
    limit = limit if limit is not None else (-1 if as_json else 50)
    items = queue.items(flt, limit=limit, offset=offset)
    if as_json:
        emit_json([item.as_json() for item in items])
        return
    total = queue.count(flt)
    click.echo(f"{'id':<20} {'status':<9} {'tox':>5} {'off':>5}  {'author':<16} text")
    for item in items:
        s = item.scores
        tox = f"{s.toxicity:.2f}" if s else "-"
        off = f"{s.off_topic:.2f}" if s and s.off_topic is not None else "-"
        text = item.comment.title + " — " + item.comment.text if item.comment.title else item.comment.text
        click.echo(
            f"{one_line(item.comment.id, 20):<20} {item.status.value:<9} {tox:>5} {off:>5}  "
            f"{one_line(item.comment.author, 16):<16} {one_line(text, 60)}"
        )
    notice(f"{len(items)} of {total} shown")


@main.command()
@click.argument("comment_id")
@click.option("--json", "as_json", is_flag=True)
@common_options
def show(comment_id: str, as_json: bool, settings: Settings) -> None:
    """One comment with its article, scores and decision history."""
    queue = open_queue(settings, write=False)
    item = queue.get(comment_id)
    if item is None:
        raise Fail(f"no comment with id {comment_id!r}")
    if item.scores is not None and item.scores.words_pending:  # scored above threshold, words not yet read
        from dataclasses import replace

        found = words_on_open(settings).fill(queue, [item])
        if item.comment.id in found:
            words = found[item.comment.id]
            item = replace(item, scores=replace(item.scores, toxic_words=words, words_pending=False))
    history = [d.as_json() for d in queue.history(comment_id)]
    if as_json:
        emit_json({**item.as_json(), "history": history})
        return
    c = item.comment
    known = (one_line(c.author), one_line(c.posted_at), "" if c.number is None else f"#{c.number}")
    click.echo(" · ".join([*(part for part in known if part), item.status.value]))  # no "#None" for JSONL rows
    click.echo(f"article: {one_line(item.article_headline)} ({one_line(c.article_id)})")
    if c.title:
        click.echo(f"title: {one_line(c.title)}")
    click.echo("")
    click.echo(printable(c.text))
    if item.scores:
        s = item.scores
        words = f" (words: {one_line(', '.join(s.toxic_words))})" if s.toxic_words else ""
        off = OFF_TOPIC_NOT_JUDGED if s.off_topic is None else f"off-topic {s.off_topic:.2f}"
        click.echo(f"\ntoxicity {s.toxicity:.2f}{words} · {off} · {one_line(s.model_version)}")
        if s.off_topic_passage:
            score = f" ({s.passage_off_topic:.2f})" if s.passage_off_topic is not None else ""
            click.echo(f"off-topic passage{score}: {one_line(s.off_topic_passage)}")
    for d in history:
        click.echo(f"{one_line(d['decided_at'])} {one_line(d['moderator'])}: {d['action']} {one_line(d['reason'])}")


def report_decision(decision: Decision, as_json: bool, suffix: str = "") -> None:
    """A decision as JSON on stdout, or as a one-line status change on stderr."""
    if as_json:
        emit_json(decision.as_json())
    else:
        notice_decision(decision, suffix)


def notice_decision(decision: Decision, suffix: str = "") -> None:
    """A decision as a one-line status change on stderr (the id is data: escaped)."""
    comment_id = printable(decision.comment_id, keep_newlines=False)
    notice(f"{comment_id}: {decision.status_before.value} -> {decision.status_after.value}{suffix}")


def desk_for(settings: Settings) -> Desk:
    """The desk's rules for this moderator on the queue at ``settings.db``."""
    from moderator.desk import Desk

    return Desk(open_queue(settings), settings.moderator)


def refusal_text(error: Exception) -> str:
    """A refused decision's message; an overrule also says how to force it."""
    from moderator.desk import AlreadyDecided

    return f"{error}; use --force to overrule" if isinstance(error, AlreadyDecided) else str(error)


# -- decisions ------------------------------------------------------------------------------------------------
@main.command()
@click.argument("comment_ids", metavar="ID [ID ...]", nargs=-1, required=True)
@click.argument("action", type=click.Choice(["approve", "reject"]))
@click.option("--reason", default="", help="Why (shown in the moderation log).")
@click.option("--moderator", default=None, help="Who decides (default: $MODERATOR_MODERATOR, then $USER).")
@click.option("--force", is_flag=True, help="Overrule an earlier decision on these comments.")
@click.option("--json", "as_json", is_flag=True, help="Print the decision (a list of them for several ids).")
@common_options
def decide(
    comment_ids: tuple[str, ...], action: str, reason: str, force: bool, as_json: bool, settings: Settings
) -> None:
    """Approve or reject one or more comments. An already decided comment is refused unless --force.

    With several ids, each refusal is reported as ID: reason, the others are decided, and the exit code is 1.
    """
    desk = desk_for(settings)
    if len(comment_ids) == 1:
        decide_one(desk, comment_ids[0], action, reason=reason, force=force, as_json=as_json)
    else:
        decide_several(desk, comment_ids, action, reason=reason, force=force, as_json=as_json)


def decide_one(desk: Desk, comment_id: str, action: str, *, reason: str, force: bool, as_json: bool) -> None:
    """`moderator decide ID ACTION`: a refusal is the command's error."""
    from moderator.store import StoreError

    try:
        decision = desk.decide(comment_id, action, reason=reason, overrule=force)
    except StoreError as exc:
        raise Fail(refusal_text(exc)) from exc
    report_decision(decision, as_json)


def decide_several(
    desk: Desk, comment_ids: tuple[str, ...], action: str, *, reason: str, force: bool, as_json: bool
) -> None:
    """`moderator decide ID ID ... ACTION`: decide what may be, report each refusal, exit 1 if any."""
    outcome = desk.decide_many(comment_ids, action, reason=reason, overrule=force)
    for refusal in outcome.refused:
        notice(printable(f"{refusal.comment_id}: {refusal_text(refusal.error)}", keep_newlines=False))
    if as_json:
        emit_json([decision.as_json() for decision in outcome.decided])
    else:
        for decision in outcome.decided:
            notice_decision(decision)
    if outcome.refused:
        sys.exit(ExitCode.ERROR)


@main.command()
@click.argument("comment_id", required=False)
@click.option("--moderator", default=None, help="Whose decision to undo (default: you).")
@click.option("--json", "as_json", is_flag=True)
@common_options
def undo(comment_id: str | None, as_json: bool, settings: Settings) -> None:
    """Undo your latest decision (on COMMENT_ID if given) by appending a revert; nothing is deleted."""
    from moderator.store import StoreError

    try:
        decision = desk_for(settings).undo(comment_id)
    except StoreError as exc:
        raise Fail(str(exc)) from exc
    report_decision(decision, as_json, " (undone)")


@main.command()
@click.argument("comment_id")
@click.argument("text")
@click.option("--moderator", default=None)
@common_options
def note(comment_id: str, text: str, settings: Settings) -> None:
    """Attach a note to a comment (kept in the audit log; the status stays)."""
    from moderator.store import StoreError

    try:
        desk_for(settings).note(comment_id, text)
    except StoreError as exc:
        raise Fail(str(exc)) from exc


@main.command()
@click.option("--json", "as_json", is_flag=True)
@common_options
def stats(as_json: bool, settings: Settings) -> None:
    """Counts of comments by status."""
    counts = open_queue(settings, write=False).counts_by_status()
    if as_json:
        emit_json(counts)
    else:
        for status, n in counts.items():
            click.echo(f"{status:<10} {n}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@common_options
def verify(as_json: bool, settings: Settings) -> None:
    """Check that the decision log is whole: walk its hash chain and name the first row that does not match.

    Every decision stores a hash of its content and of the decision before it; a row changed, removed or
    inserted behind moderator's back (with the triggers dropped) breaks the chain there. Exit 1 when broken.
    """
    report = open_queue(settings, write=False).verify()
    if as_json:
        emit_json(report.as_json())
    elif report.whole:
        click.echo(f"decision log whole: {report.decisions} decisions, head {report.head[:16]}")
    if not report.whole:
        if not as_json:
            notice(f"decision log broken at decision {report.broken_at}: {report.reason}")
        sys.exit(ExitCode.ERROR)


# -- export ---------------------------------------------------------------------------------------------------
@main.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of stdout.",
)
@click.option("--since", default=None, help="Only decisions at or after this date/time (UTC ISO 8601).")
@click.option("--until", default=None, help="Only decisions at or before this date/time (a date means its end).")
@common_options
def export(fmt: str, output: Path | None, since: str | None, until: str | None, settings: Settings) -> None:
    """Export the moderation log: every decision with who, when, what, why, scores and model version."""
    from moderator.clock import BadMoment, parse_moment
    from moderator.export import log_records, write_log

    for name, value in (("--since", since), ("--until", until)):
        try:
            if value:
                parse_moment(value)
        except BadMoment as exc:
            raise click.BadParameter(str(exc), param_hint=name) from exc
    queue = open_queue(settings, write=False)
    records = log_records(queue, since, until)
    if output is None:
        count = write_log(records, sys.stdout, fmt)
    else:
        with output.open("w", encoding="utf-8", newline="") as handle:
            count = write_log(records, handle, fmt)
    notice(f"{count} decisions exported" + (f" to {output}" if output else ""))


# -- scoring --------------------------------------------------------------------------------------------------
def load_policy_for(settings: Settings, config: dict[str, Any]) -> Any:
    """The policy of --policy, else of the config's [policy] table, else the defaults; a bad one is a usage error."""
    from moderator.policy import load_policy

    try:
        return load_policy(settings.policy, config)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


def precision_option(func: F) -> F:
    """--precision on every command that scores: the numerics, chosen by the CPU unless overridden."""
    return click.option(
        "--precision",
        type=click.Choice(["auto", "fp32", "bf16"]),
        default=None,
        help="Scoring numerics (default: auto, by what this CPU does natively; or $MODERATOR_PRECISION). "
        "int8 is not offered: it moved scores past the 0.02 every path keeps (README, Numerics by CPU).",
    )(func)


def load_scorer_for(settings: Settings, *, quiet: bool = False) -> Any:
    """The scorer the settings name; 'lexical-fake' is the deterministic test scorer, not a model.

    Says on stderr which numerics run and why (the path is also part of the recorded model version).
    """
    from moderator.config import FAKE_MODEL

    model_dir = settings.model_dir()
    if model_dir.name.startswith(FAKE_MODEL) and not model_dir.is_dir():
        from moderator.scoring.fake import FakeScorer

        return FakeScorer()
    from moderator.scoring import load_scorer

    try:
        scorer: Any = load_scorer(
            model_dir, Path(settings.base_model) if settings.base_model else None, settings.precision
        )
    except ValueError as exc:  # e.g. MODERATOR_PRECISION names no path
        raise click.UsageError(str(exc)) from exc
    if not quiet:
        notice(scorer.precision.line())
    return scorer


def words_option(func: F) -> F:
    """--words-now on the commands that score a queue: words while scoring, or (default) when a person reads."""
    return click.option(
        "--words-now",
        is_flag=True,
        help="Compute the words that drove toxicity while scoring, for comments the policy sends to a person "
        "(default: when a person opens the comment in the desk or with `show`, then stored; scoring runs "
        "about a quarter faster).",
    )(func)


def words_where_read(scorer: Any, policy: Any, now: bool = False) -> Any:
    """The scorer, told where to spend word attributions (a backward pass each) while scoring.

    By default on none: the desk and `show` compute a comment's words when a person opens it
    (desk.WordsOnOpen). With ``now``, on the comments this policy sends to a human for toxicity; those over
    the model's threshold outside that band (under it, or rejected without a person) are still left pending.
    """
    if hasattr(scorer, "words_from"):
        scorer.words_from = policy.review_edge("toxicity") if now else float("inf")
        scorer.words_until = policy.reject_edge("toxicity")
    return scorer


def words_on_open(settings: Settings, *, quiet: bool = False) -> Any:
    """A desk.WordsOnOpen over the settings' model, loaded on first use (``quiet``: no notice on stderr, for
    the desk, whose screen a stray line would break)."""
    from moderator.desk import WordsOnOpen

    def load() -> Any:
        scorer = load_scorer_for(settings, quiet=quiet)
        return getattr(scorer, "toxic_words_of", None)

    return WordsOnOpen(load)


@main.command()
@click.option("--rescore", is_flag=True, help="Score every comment again, not only unscored ones.")
@click.option("--model", default=None, help="Model name under models/, or a model directory.")
@click.option("--batch-size", type=int, default=None, help="Comments per committed batch (default 32).")
@click.option("--json", "as_json", is_flag=True)
@words_option
@precision_option
@common_options
def score(rescore: bool, as_json: bool, words_now: bool, settings: Settings) -> None:
    """Score comments in the queue (toxicity, off-topic against their article), with a progress bar.

    Each batch is committed on its own: an interrupted run loses nothing and the next one resumes.
    """
    from moderator.config import read_config_file
    from moderator.progress import Progress
    from moderator.scoring.batch import score_queue

    policy = load_policy_for(settings, read_config_file(settings.config_file))
    queue = open_queue(settings)
    total = queue.count_unscored(rescore=rescore)
    scorer = words_where_read(load_scorer_for(settings), policy, words_now)
    progress = Progress("scoring", total)
    try:
        run = score_queue(queue, scorer, batch_size=settings.batch_size, rescore=rescore, on_batch=progress.advance)
    except KeyboardInterrupt:
        progress.close()
        notice(f"interrupted after {progress.done} comments; run again to resume")
        sys.exit(ExitCode.INTERRUPTED)
    progress.close()
    if as_json:
        emit_json({"scored": run.scored, "model_version": run.model_version})
    else:
        notice(f"{run.scored} comments scored with {run.model_version}")


@main.command()
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Policy TOML (default: the [policy] table of moderator.toml, else built-in defaults).",
)
@click.option("--dry-run", is_flag=True, help="Report what would happen; write nothing.")
@click.option("--fail-on-flagged", is_flag=True, help="Exit 4 when anything was queued or rejected.")
@click.option("--model", default=None, help="Model name under models/, or a model directory.")
@click.option("--batch-size", type=int, default=None, help="Comments per committed batch (default 32).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@words_option
@precision_option
@common_options
def flag(dry_run: bool, fail_on_flagged: bool, as_json: bool, words_now: bool, settings: Settings) -> None:
    """Score what is unscored, then auto-approve, queue or auto-reject pending comments by the policy.

    Automatic decisions are ordinary audit-log decisions by `auto:<policy name>`, with the rule that fired;
    they can be reviewed and undone like any other. Safe to interrupt: a re-run resumes.
    """
    from moderator.config import read_config_file
    from moderator.flagging import Flagger
    from moderator.progress import Progress

    policy = load_policy_for(settings, read_config_file(settings.config_file))
    queue = open_queue(settings)
    progress = Progress("flagging")
    try:
        scorer = words_where_read(load_scorer_for(settings), policy, words_now)
        report = Flagger(queue, scorer, policy, batch_size=settings.batch_size).run(
            dry_run=dry_run, on_progress=progress.advance
        )
    except KeyboardInterrupt:
        progress.close()
        notice(f"interrupted after {progress.done} comments; run again to resume")
        sys.exit(ExitCode.INTERRUPTED)
    progress.close()
    data = report.as_json()
    outcomes: dict[str, int] = report.outcome_counts()
    if as_json:
        emit_json(data)
    else:
        prefix = "would be " if dry_run else ""
        done = {"approve": "approved", "queue": "queued", "reject": "rejected"}
        notice(
            f"policy {policy.name}: {data['scored']} scored; "
            + ", ".join(f"{n} {prefix}{done[outcome]}" for outcome, n in outcomes.items())
        )
        for rule, n in report.rules.most_common():
            notice(f"  {n:>6}  {rule}")
    if fail_on_flagged and report.flagged:
        sys.exit(ExitCode.FLAGGED)


@main.command()
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@click.option("--model", default=None, help="Model name under models/, or a model directory.")
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Policy TOML whose bands the page report applies (default: as for `flag`).",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"toxic": {...}, "off_topic": {...}, ...}.')
@precision_option
@common_options
def evaluate(data: Path, as_json: bool, settings: Settings) -> None:
    """Measure the model on a labelled JSONL file, or on a directory of labelled forum pages.

    JSONL records have `text` and any of `toxic`, `off_topic` (booleans); off-topic also reads
    `article_title` and `article_body`. A directory holds forum page dumps `NAME.txt`, each beside
    `NAME.labels.json` (per comment number: `toxic`, `off_topic`, `drift`), so a newsroom can label a few of
    its own threads. Prints per label n, ROC-AUC, average precision, and precision / recall / F1 / macro-F1 at
    the model's operating threshold; for pages also drift apart, and what the policy would send to a human.
    """
    if data.is_dir():
        _evaluate_pages(data, as_json, settings)
        return
    from moderator.scoring.evaluate import evaluate_records, read_eval_file

    records, errors = read_eval_file(data)
    for error in errors:
        notice(error)
    report = evaluate_records(load_scorer_for(settings), records)
    if as_json:
        emit_json(report)
    else:
        _print_label_table(report)
    if errors:
        sys.exit(ExitCode.ERROR)


def _evaluate_pages(directory: Path, as_json: bool, settings: Settings) -> None:
    """`moderator evaluate DIR`: the page report; a page that cannot be read is named and the exit code is 1."""
    from moderator.config import read_config_file
    from moderator.ingest.labelled_pages import read_labelled_pages
    from moderator.scoring.evaluate import evaluate_pages

    pages, problems = read_labelled_pages(directory)
    for problem in problems:
        notice(one_line(problem))
    if not pages:
        raise Fail(f"{directory}: no labelled pages (NAME.txt beside NAME.labels.json)")
    policy = load_policy_for(settings, read_config_file(settings.config_file))
    report = evaluate_pages(load_scorer_for(settings), pages, policy)
    if as_json:
        emit_json(report)
    else:
        _print_label_table(report)
        drift, shares = report["drift"], report["policy"]
        click.echo(f"pages {report['pages']}, comments {report['comments']}")
        click.echo(
            "off-topic, wholly off-topic against all others: ROC-AUC "
            + _cell(report["wholly_off_topic_vs_rest_roc_auc"])
        )
        click.echo(
            f"drift ({drift['n']}) against on-topic comments of >= 80 words ({drift['long_on_topic']}): ROC-AUC "
            f"{_cell(drift['roc_auc_by_passage'])} by its passage, "
            f"{_cell(drift['roc_auc_by_whole'])} by the whole comment"
        )
        click.echo(
            f"policy {one_line(shares['name'])}: sends {_cell(shares['off_topic_sent_to_human'])} of off-topic and "
            f"{_cell(shares['drift_sent_to_human'])} of drifting comments to a human, auto-approves "
            f"{_cell(shares['clean_on_topic_auto_approved'])} of clean on-topic ones"
        )
    if problems:
        sys.exit(ExitCode.ERROR)


def _cell(value: Any) -> str:
    return "-" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


def _print_label_table(report: dict[str, Any]) -> None:
    """Per label: n, ROC-AUC, AP, and precision / recall / F1 / macro-F1 at the model's threshold."""
    names = ("n", "roc_auc", "average_precision", "precision", "recall", "f1", "macro_f1", "threshold")
    click.echo(f"{'label':<10} " + " ".join(f"{name:>17}" for name in names))
    for label in ("toxic", "off_topic"):
        metrics = report.get(label)
        if isinstance(metrics, dict):
            cells = [metrics.get(name) for name in names]
            click.echo(
                f"{label:<10} "
                + " ".join(
                    f"{'-' if v is None else (f'{v:.4f}' if isinstance(v, float) else str(v)):>17}" for v in cells
                )
            )
    off = report.get("off_topic")
    if isinstance(off, dict) and (off.get("n_under_a_body") or off.get("n_under_a_teaser")):
        under, teaser, body_at = off["n_under_a_body"], off.get("n_under_a_teaser", 0), off["threshold_under_a_body"]
        parts = [f"{under} of {off['n']} under an article body, judged by the body model at {body_at:.4f}"]
        if teaser:
            parts.append(f"{teaser} under a teaser, by the teaser model at {off['threshold_under_a_teaser']:.4f}")
        if under + teaser < off["n"]:
            parts.append(f"the rest by the title head at {off['threshold']:.4f}")
        click.echo("off-topic: " + "; ".join(parts))
    click.echo(f"model: {report.get('model_version', '')}")


@main.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA_DIR,
    show_default=True,
    help="The labelled training data (not read with --from-decisions).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("models/moderator-de-v1"),
    show_default=True,
    help="Where the trained heads go.",
)
@click.option("--epochs", type=int, default=3, show_default=True)
@click.option("--n-frozen", type=int, default=6, show_default=True, help="Bottom encoder layers kept frozen.")
@click.option("--limit", type=int, default=None, help="Train on a random subset (smoke runs).")
@click.option(
    "--skip-finetune",
    is_flag=True,
    help="Keep the fine-tuned layers in --out; refit the n-gram model, fusion and both off-topic models (~7 min).",
)
@click.option(
    "--pages",
    "pages_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_PAGES_DIR,
    show_default=True,
    help="Labelled forum pages (NAME.txt + NAME.labels.json) for off-topic under an article body (not read "
    "with --from-decisions).",
)
@click.option(
    "--base",
    "base_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A transformers checkpoint to train on (default: the converted multilingual-e5-small).",
)
@click.option(
    "--from-decisions",
    is_flag=True,
    help="Adapt the active model (or --model) to the house from the queue's human decisions; needs --out.",
)
@since_option
@click.option("--model", default=None, help="With --from-decisions: the model to adapt (default: the active one).")
@common_options
def train(
    data_dir: Path,
    out_dir: Path,
    epochs: int,
    n_frozen: int,
    limit: int | None,
    skip_finetune: bool,
    pages_dir: Path,
    base_dir: Path | None,
    from_decisions: bool,
    since: str | None,
    settings: Settings,
) -> None:
    """Reproduce the shipped heads from the shared labelled data (about 18 minutes on 2 CPU cores).

    Keeps its own held-out split out of training and writes the held-out metrics into the model card data;
    the off-topic model for articles with a body is measured by cross-validation grouped by page.

    With --from-decisions: learn the house's line from the moderators' decisions in the queue (--db). The
    latest 30 % of decisions (by time) are held out; a house head (new fusion, calibration, threshold; over
    the comment's embedding too with at least 30 decisions of each kind) is fitted on the older 70 %, and
    a new model directory --out is written with its card and the before/after figures on the held-out part.
    """
    if from_decisions:  # learns from the queue's decisions alone: no training data needed
        _train_from_decisions(settings, out_dir, since, base_dir)
        return
    for name, directory in (("--data", data_dir), ("--pages", pages_dir)):
        if not directory.is_dir():
            raise click.BadParameter(f"directory {str(directory)!r} does not exist", param_hint=f"'{name}'")
    from moderator.training.pipeline import train_main

    train_main(
        out_dir,
        data_dir,
        base_dir,
        pages_dir=pages_dir,
        skip_finetune=skip_finetune,
        n_frozen=n_frozen,
        epochs=epochs,
        limit=limit,
    )
    notice(f"trained heads written to {out_dir}")


@main.command()
@click.option(
    "--comments",
    "n_comments",
    type=int,
    default=400,
    show_default=True,
    help="Generated comments for the production path.",
)
@click.option(
    "--naive-comments", type=int, default=60, show_default=True, help="Comments for the (slow) naive baseline."
)
@click.option("--model", default=None, help="Model name under models/, or a model directory.")
@click.option("--batch-size", type=int, default=None, help="Comments per batch (default 32).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@words_option
@precision_option
@common_options
def bench(n_comments: int, naive_comments: int, as_json: bool, words_now: bool, settings: Settings) -> None:
    """Scoring speed: the production path against a naive baseline measured in the same run.

    Prints comments/s of both and their ratio, single-comment latency, peak memory, and the encoder's
    achieved FLOP/s against fp32 and bf16 matmul peaks measured on this machine. The production path is what
    `flag` runs: no word attributions (computed when a person opens a comment, timed on their own), or with
    --words-now those of the comments the policy sends to a human.
    """
    from moderator.config import read_config_file
    from moderator.scoring.bench import format_table, run_bench
    from moderator.scoring.convert import ensure_base_model

    policy = load_policy_for(settings, read_config_file(settings.config_file))
    base_dir = Path(settings.base_model) if settings.base_model else ensure_base_model()
    notice("benchmarking (about a minute)...")
    result = run_bench(
        words_where_read(load_scorer_for(settings), policy, words_now),
        base_dir,
        n_comments=n_comments,
        naive_comments=naive_comments,
        batch_size=settings.batch_size,
    )
    if as_json:
        emit_json(result.as_json())
    else:
        click.echo(format_table(result))


@main.group()
def model() -> None:
    """Models: the base the heads run on (`prepare`), and which model directory scores (`list`, `use`, `rollback`)."""


@model.command()
@click.argument("out_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
def prepare(out_dir: Path | None) -> None:
    """Convert the base model into the cache (or OUT_DIR) once, and print its directory.

    Idempotent: an up-to-date conversion is only checksummed. Scoring converts on first use anyway; this
    does it ahead of time (~15 s).
    """
    from moderator.scoring.convert import ensure_base_model

    click.echo(ensure_base_model(out_dir))


@model.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of models.")
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Default: models/.")
@common_options
def model_list(as_json: bool, models_dir: Path | None, settings: Settings) -> None:
    """Model directories (each with a config.json): name, version, and which one is active (*)."""
    from moderator.config import default_models_dir
    from moderator.registry import list_models

    entries = list_models(models_dir or default_models_dir(), settings.model)
    if as_json:
        emit_json([e.as_json() for e in entries])
        return
    for e in entries:
        click.echo(f"{'*' if e.active else ' '} {e.name:<28} {e.model_version}")


@model.command("use")
@click.argument("name")
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Default: models/.")
@common_options
def model_use(name: str, models_dir: Path | None, settings: Settings) -> None:
    """Make NAME the active model (recorded in moderator.toml as [model] active; the old one as previous)."""
    from moderator.config import default_models_dir
    from moderator.registry import RegistryError, use_model

    try:
        active, previous = use_model(settings.config_file, models_dir or default_models_dir(), name, settings.model)
    except RegistryError as exc:
        raise Fail(str(exc)) from exc
    notice(
        f"active model: {active}" + (f" (previous: {previous}; `moderator model rollback` returns)" if previous else "")
    )


@model.command("rollback")
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Default: models/.")
@common_options
def model_rollback(models_dir: Path | None, settings: Settings) -> None:
    """Switch back to the model active before the last `model use`."""
    from moderator.config import default_models_dir
    from moderator.registry import RegistryError, rollback

    try:
        active, previous = rollback(settings.config_file, models_dir or default_models_dir(), settings.model)
    except RegistryError as exc:
        raise Fail(str(exc)) from exc
    notice(f"active model: {active} (previous: {previous})")


# -- the house's line -----------------------------------------------------------------------------------------
def house_decisions_for(settings: Settings, since: str | None, current_scores: bool) -> Any:
    """The standing human decisions of the queue; a bad --since is a usage error."""
    from moderator.clock import BadMoment
    from moderator.house import human_decisions

    try:
        return human_decisions(open_queue(settings, write=False), since, current_scores=current_scores)
    except BadMoment as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc


CURRENT_SCORES_HELP = "Use each comment's latest scores (after a rescore) instead of those recorded with the decision."


@main.command()
@since_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option(
    "--plot",
    "plot_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write precision-recall, reliability and histogram plots (PNG and SVG) here (needs matplotlib).",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the recommended bands as a policy TOML that `flag --policy` loads.",
)
@click.option(
    "--reject-precision",
    type=click.FloatRange(0, 1),
    default=0.98,
    show_default=True,
    help="Auto-rejected comments the house rejected, at least this share.",
)
@click.option(
    "--approve-keep",
    type=click.FloatRange(0, 1),
    default=0.99,
    show_default=True,
    help="Auto-approved comments the house approved, at least this share.",
)
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The current policy whose bands are measured (default: as for `flag`).",
)
@click.option("--current-scores", is_flag=True, help=CURRENT_SCORES_HELP)
@common_options
def calibrate(
    since: str | None,
    as_json: bool,
    plot_dir: Path | None,
    out_file: Path | None,
    reject_precision: float,
    approve_keep: float,
    current_scores: bool,
    settings: Settings,
) -> None:
    """Learn the house's line: how the scores separate what moderators approved from what they rejected.

    Reads the latest human decision per comment (undos honoured; `auto:*` policy decisions and notes left out;
    `client:*` decisions from a comment system count as human). Per label: ROC-AUC, precision and recall at
    the current bands and at recommended ones, counts, and a warning where too few decisions back a figure.
    """
    from moderator.config import read_config_file
    from moderator.house import HouseError, Targets, house_report
    from moderator.house.render import policy_toml, report_lines

    policy = load_policy_for(settings, read_config_file(settings.config_file))
    found = house_decisions_for(settings, since, current_scores)
    try:
        report = house_report(found, policy, Targets(reject_precision, approve_keep))
    except HouseError as exc:
        raise Fail(str(exc)) from exc
    recommended = report.recommended_policy()
    if out_file is not None:
        out_file.write_text(
            policy_toml(
                recommended,
                f"Recommended by `moderator calibrate` from {len(found.decisions)} human decisions "
                f"(reject precision >= {reject_precision:g}, approve keep >= {approve_keep:g}).",
            )
        )
        notice(f"policy written to {out_file}")
    plots: list[Path] = []
    if plot_dir is not None:
        from moderator.house.plots import PlotsUnavailable, write_plots

        try:
            plots = write_plots(report, plot_dir)
        except PlotsUnavailable as exc:
            raise Fail(str(exc)) from exc
        notice(f"{len(plots)} plot files written to {plot_dir}")
    if as_json:
        emit_json(
            {**report.as_json(), "policy_toml": str(out_file) if out_file else None, "plots": [str(p) for p in plots]}
        )
    else:
        click.echo("\n".join(report_lines(report)))


@main.group()
def policy() -> None:
    """Policies: try one out on the decisions already taken before switching it on."""


@policy.command("test")
@click.argument("policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@since_option
@click.option("--json", "as_json", is_flag=True, help="Print the replay as one JSON object.")
@click.option(
    "--seconds-per-comment",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="A moderator's reading time per comment, for the hours saved.",
)
@click.option("--current-scores", is_flag=True, help=CURRENT_SCORES_HELP)
@common_options
def policy_test(
    policy_file: Path,
    since: str | None,
    as_json: bool,
    seconds_per_comment: float,
    current_scores: bool,
    settings: Settings,
) -> None:
    """Replay POLICY_FILE over the human-decided comments from their stored scores; writes nothing.

    Prints the agreement matrix (policy auto-approve / queue / auto-reject against human approved / rejected),
    the comments it would have got wrong, and the moderator hours it would have saved.
    """
    from moderator.house import HouseError, replay_policy
    from moderator.house.render import replay_lines
    from moderator.policy import load_policy

    try:
        new = load_policy(policy_file)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    found = house_decisions_for(settings, since, current_scores)
    try:
        replay = replay_policy(found, new, seconds_per_comment=seconds_per_comment)
    except HouseError as exc:
        raise Fail(str(exc)) from exc
    if as_json:
        emit_json(replay.as_json())
    else:
        click.echo("\n".join(replay_lines(replay)))


def _train_from_decisions(settings: Settings, out_dir: Path, since: str | None, base_dir: Path | None) -> None:
    """`train --from-decisions`: refuses the shipped model's own directory and too few decisions (exit 1)."""
    from moderator.clock import BadMoment
    from moderator.house import HouseError
    from moderator.training.house import train_from_decisions

    if click.get_current_context().get_parameter_source("out_dir") is click.core.ParameterSource.DEFAULT:
        raise click.UsageError("--from-decisions needs --out models/NAME (a new model directory)")
    try:
        report = train_from_decisions(
            open_queue(settings, write=False), settings.model_dir(), out_dir, since=since, base_dir=base_dir
        )
    except BadMoment as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    except HouseError as exc:
        raise Fail(str(exc)) from exc
    b, a = report["held_out"]["before"], report["held_out"]["after"]
    notice(
        f"{out_dir}: {report['head']['kind']} fitted on {report['split']['train']} decisions; held-out "
        f"{report['split']['held_out']}: ROC-AUC {b['roc_auc']:.3f} -> {a['roc_auc']:.3f}, "
        f"macro-F1 {b['macro_f1']:.3f} -> {a['macro_f1']:.3f}"
    )
    emit_json(report)


# -- review ---------------------------------------------------------------------------------------------------
@main.command()
@click.option("--moderator", default=None, help="Your name in the audit log (default: $USER).")
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Policy TOML whose review edges mark scores as high (default: as for `flag`).",
)
@common_options
def review(settings: Settings) -> None:
    """Open the moderator's desk (Textual TUI) on the queue; scores show as high from the policy's review edges."""
    if not sys.stdout.isatty():
        raise Fail("review needs a terminal; use `moderator list` in scripts")
    from moderator.config import read_config_file
    from moderator.tui.app import run_review

    config = read_config_file(settings.config_file)
    keymap = {str(k): str(v) for k, v in config.get("keys", {}).items()}
    # the desk marks high what this policy queues
    open_queue(settings).db.conn.close()  # a file that is not a queue is refused here, not in the running desk
    # words that drove toxicity are computed as comments are opened (the model loads in the background)
    words = words_on_open(settings, quiet=True)
    run_review(settings.db, settings.moderator, keymap, load_policy_for(settings, config), words)


# -- serve ----------------------------------------------------------------------------------------------------
@main.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1: put a reverse proxy in front).")
@click.option("--port", type=int, default=None, help="Port (default 8080).")
@click.option("--no-auth", is_flag=True, default=None, help="Run without API keys (refused unless on loopback).")
@click.option("--model", default=None, help="Model name under models/, or a model directory ('lexical-fake' to try).")
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Policy TOML for Coral's moderation phase (default: as for `flag`).",
)
@precision_option
@common_options
def serve(host: str | None, port: int | None, no_auth: bool | None, settings: Settings) -> None:
    """Live intake: a Perspective-compatible API and Coral's moderation phase over the queue.

    Loads the scorer once and scores requests that arrive together in one batch. Comments it stores appear in
    `moderator list` and the desk; Coral's verdicts and suggested scores land in the decision log. API keys and
    Coral signing secrets come from [serve] in moderator.toml or $MODERATOR_API_KEYS / $MODERATOR_CORAL_SECRETS.
    """
    import uvicorn

    from moderator.config import load_serve_settings, read_config_file
    from moderator.serve.app import make_app

    config = read_config_file(settings.config_file)
    try:
        serve_settings = load_serve_settings(config, host=host, port=port, no_auth=no_auth or None)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if (problem := serve_settings.auth_problem()) is not None:
        raise click.UsageError(problem)
    policy = load_policy_for(settings, config)
    open_queue(settings).db.conn.close()  # create or migrate the queue now; a foreign file is refused here
    app = make_app(serve_settings, settings.db, load_scorer_for(settings), policy)
    notice(f"serving {settings.db} on http://{serve_settings.host}:{serve_settings.port} (Ctrl-C stops)")
    uvicorn.run(app, host=serve_settings.host, port=serve_settings.port, log_level="info", timeout_graceful_shutdown=30)


if __name__ == "__main__":
    main()
