"""The Starlette app: routes, authentication, limits and error shapes; the work is in intake and the batcher.

Endpoints (README "Live intake"): Perspective's ``comments:analyze`` and ``comments:suggestscore`` with its
discovery document, Coral's moderation phase, ``PUT /v1/articles/{id}``, and ``GET /healthz``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moderator.config import ServeSettings
from moderator.desk import AlreadyDecided
from moderator.ingest.common import short_hash
from moderator.policy import Policy
from moderator.records import Action, Article, Comment, Scores
from moderator.scoring.base import Scorer
from moderator.serve.batcher import MicroBatcher
from moderator.serve.coral import SIGNATURE_HEADER, coral_answer, parse_coral, signature_matches
from moderator.serve.discovery import discovery_document
from moderator.serve.errors import ApiError, BadRequest
from moderator.serve.intake import DbThread, Intake, no_article, unknown_story
from moderator.serve.limits import RateLimiter, read_body
from moderator.serve.perspective import (
    TOXICITY_ATTRIBUTES,
    AnalyzeRequest,
    SuggestRequest,
    analyze_response,
    parse_analyze,
    parse_suggest,
)
from moderator.store import StoreError

ARTICLE_FIELDS = ("headline", "kicker", "teaser", "body", "url")


@dataclass
class Server:
    """What every request shares: settings, the scorer behind the batcher, the database thread, the limits."""

    settings: ServeSettings
    db_path: Path
    model_version: str
    batcher: MicroBatcher
    db: DbThread
    limiter: RateLimiter
    review_from: float = 0.0  # the policy's toxicity band a person reads: words are computed for it
    reject_from: float = 1.01

    # -- authentication and bodies ------------------------------------------------------------------------
    def authorize(self, request: Request) -> str:
        """The caller's API key (``key`` query parameter or ``X-Goog-Api-Key``), after its rate limit."""
        key = request.query_params.get("key") or request.headers.get("x-goog-api-key") or ""
        if self.settings.api_keys:
            if not key:
                raise ApiError(401, "missing API key: pass ?key=KEY (or the X-Goog-Api-Key header)")
            if not any(hmac.compare_digest(key.encode(), k.encode()) for k in self.settings.api_keys):
                raise ApiError(403, "API key not valid for this server")
        self.limiter.take(key)
        return key

    async def json_body(self, request: Request) -> Any:
        return parse_json(await read_body(request, self.settings.max_body_bytes))

    # -- articles -----------------------------------------------------------------------------------------
    async def article_for(self, article_id: str, context_texts: Sequence[str]) -> Article | None:
        """The article a Perspective request names: a registered ``articleId``, else its context entries."""
        if article_id:
            article = await self.db.run(lambda intake: intake.article(article_id))
            if article is None:
                raise BadRequest(f"articleId: {article_id!r} is not a registered article (PUT /v1/articles/{{id}})")
            return article
        if context_texts:
            first = context_texts[0].strip().splitlines()[0]
            return Article(
                id=f"context-{short_hash(*context_texts)}",
                headline=first[:200],
                body="\n".join(context_texts),
                source="perspective context",
            )
        return None

    async def score(self, comment: Comment, article: Article | None) -> Scores:
        """Scores from the batcher; without an article, toxicity only (off-topic not judged, and not computed
        where the scorer can skip it: a third of the encoder)."""
        if article is None and self.batcher.scores_toxicity_alone:
            return (await self.batcher.score(comment, None)).without_off_topic()
        scores = await self.batcher.score(comment, article or no_article())
        return scores if article is not None else scores.without_off_topic()

    async def with_words(self, comment: Comment, article: Article | None, scores: Scores) -> Scores:
        """``scores`` with the words that drove toxicity, where scoring left them pending.

        Scoring skips them: they cost a backward pass, and only span annotations and the desk read them.
        """
        if not scores.words_pending:
            return scores
        found = await self.batcher.words(comment, article or no_article())
        return scores if found is None else replace(scores, toxic_words=found, words_pending=False)

    def read_by_a_person(self, scores: Scores) -> bool:
        """Whether a stored comment lands in the desk's toxicity band, where a moderator reads its words."""
        return self.review_from <= scores.toxicity < self.reject_from


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"malformed JSON: {getattr(exc, 'msg', exc)}") from None


def comment_id_for(key: str, client_token: str, text: str) -> str:
    """A retried request (same key, clientToken and text) names the same comment; without a token, a new one.

    The text is part of it so a client reusing a token for another comment never gets the first one's scores.
    """
    if client_token:
        return "p-" + hashlib.sha256(f"{key}\x1f{client_token}\x1f{text}".encode()).hexdigest()[:16]
    return "p-" + uuid.uuid4().hex[:16]


def perspective_comment(key: str, request: AnalyzeRequest | SuggestRequest, article: Article | None) -> Comment:
    return Comment(
        id=comment_id_for(key, request.client_token, request.text),
        article_id=(article or no_article()).id,
        text=request.text,
        source=f"perspective:{request.community_id}" if request.community_id else "perspective",
    )


def server_of(request: Request) -> Server:
    server: Server = request.app.state.server
    return server


# -- endpoints ------------------------------------------------------------------------------------------------
async def analyze(request: Request) -> Response:
    server = server_of(request)
    key = server.authorize(request)
    req = parse_analyze(await server.json_body(request), server.settings.max_text_bytes)
    article = await server.article_for(req.article_id, req.context_texts)
    comment = perspective_comment(key, req, article)
    if not req.do_not_store and req.client_token:  # a retry: answer from the stored scores, store nothing
        stored = await server.db.run(lambda intake: intake.item(comment.id))
        if stored is not None and stored.scores is not None:
            return JSONResponse(analyze_response(req, stored.scores))
    scores = await server.score(comment, article)
    if req.span_annotations or (not req.do_not_store and server.read_by_a_person(scores)):
        scores = await server.with_words(comment, article, scores)
    if not req.do_not_store:
        stored_article = article or no_article()
        await server.db.run(lambda intake: intake.store(comment, stored_article, scores))
    return JSONResponse(analyze_response(req, scores))


async def suggest_score(request: Request) -> Response:
    server = server_of(request)
    key = server.authorize(request)
    req = parse_suggest(await server.json_body(request), server.settings.max_text_bytes)
    item = None
    if req.client_token:
        cid = comment_id_for(key, req.client_token, req.text)
        item = await server.db.run(lambda intake: intake.item(cid))
    if item is None:
        item = await server.db.run(lambda intake: intake.item_by_text(req.text))
    if item is None:  # not seen before: store it (scored) first, so the verdict has a comment to land on
        article = await server.article_for(req.article_id, req.context_texts)
        comment = perspective_comment(key, req, article)
        scores = await server.score(comment, article)
        stored_article = article or no_article()
        await server.db.run(lambda intake: intake.store(comment, stored_article, scores))
        comment_id = comment.id
    else:
        comment_id = item.comment.id
    bad = [name for name, value in req.verdicts.items() if value >= 0.5]
    action = Action.REJECT if bad else Action.APPROVE
    moderator = f"client:{req.community_id or 'perspective'}"
    reason = "suggestscore " + " ".join(f"{name}={value:g}" for name, value in sorted(req.verdicts.items()))
    if any(name not in TOXICITY_ATTRIBUTES for name in bad):
        reason += " (off-topic)"
    try:
        await server.db.run(lambda intake: intake.suggest(comment_id, action, moderator, reason))
    except AlreadyDecided as exc:
        raise ApiError(409, f"{exc}; a person's decision is not overruled from outside") from None
    languages = list(req.languages) or ["de"]
    body: dict[str, Any] = {"detectedLanguages": languages, "requestedLanguages": list(req.languages)}
    if req.client_token:
        body["clientToken"] = req.client_token
    return JSONResponse(body)


async def coral_moderation(request: Request) -> Response:
    server = server_of(request)
    raw = await read_body(request, server.settings.max_body_bytes)
    if not server.settings.coral_secrets:
        raise ApiError(401, "no Coral signing secret configured ([serve] coral_secrets or $MODERATOR_CORAL_SECRETS)")
    if not signature_matches(raw, request.headers.get(SIGNATURE_HEADER), server.settings.coral_secrets):
        raise ApiError(401, f"missing or invalid {SIGNATURE_HEADER}")
    req = parse_coral(parse_json(raw), server.settings.max_text_bytes)
    known = await server.db.run(lambda intake: intake.story_article(req.story_id, req.story_url))
    article = known or unknown_story(req.story_id, req.story_url)
    comment = Comment(
        id=f"coral-{req.comment_id}",
        article_id=article.id,
        text=req.body,
        author=req.author_id,
        parent_id=f"coral-{req.parent_id}" if req.parent_id else None,
        source=f"coral:{req.tenant_id}" if req.tenant_id else "coral",
    )
    scores = await server.score(comment, known)
    if server.read_by_a_person(scores):  # queued for the desk: a moderator reads the words
        scores = await server.with_words(comment, known, scores)
    edit = req.action == "EDIT"
    judged = await server.db.run(lambda intake: intake.moderate(comment, article, scores, edit=edit))
    code, body = coral_answer(
        judged.outcome, hold_queued=server.settings.hold_queued, approve_status=server.settings.approve_status
    )
    return Response(status_code=204) if body is None else JSONResponse(body, status_code=code)


async def put_article(request: Request) -> Response:
    server = server_of(request)
    server.authorize(request)
    article_id = request.path_params["article_id"]
    data = await server.json_body(request)
    if not isinstance(data, dict):
        raise BadRequest("request body: expected a JSON object")
    for name in ARTICLE_FIELDS:
        if data.get(name) is not None and not isinstance(data[name], str):
            raise BadRequest(f"{name}: expected a string")
    if not str(data.get("headline") or "").strip():
        raise BadRequest("headline: required")
    text = {n: str(data.get(n) or "") for n in ARTICLE_FIELDS}
    try:
        "".join(text.values()).encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("article: a field holds a lone surrogate, which is not text") from None
    article = Article(
        id=article_id,
        headline=text["headline"],
        kicker=text["kicker"],
        teaser=text["teaser"],
        body=text["body"],
        url=text["url"],
        source="serve",
    )
    new = await server.db.run(lambda intake: intake.register(article))
    stored = await server.db.run(lambda intake: intake.article(article_id))
    assert stored is not None
    return JSONResponse(
        {"id": stored.id, **{n: getattr(stored, n) for n in ARTICLE_FIELDS}, "created": new},
        status_code=201 if new else 200,
    )


async def discovery(request: Request) -> Response:
    return JSONResponse(discovery_document(str(request.base_url)))


async def healthz(request: Request) -> Response:
    server = server_of(request)
    return JSONResponse(
        {
            "status": "ok",
            "model_version": server.model_version,
            "queue": str(server.db_path),
            "batches": server.batcher.batches,
            "largest_batch": server.batcher.largest_batch,
        }
    )


# -- errors ---------------------------------------------------------------------------------------------------
async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.code)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse(ApiError(exc.status_code, str(exc.detail)).body(), status_code=exc.status_code)


async def store_error(request: Request, exc: Exception) -> Response:
    return JSONResponse(ApiError(409, str(exc)).body(), status_code=409)


def make_app(settings: ServeSettings, db_path: Path, scorer: Scorer, policy: Policy) -> Starlette:
    """The app over one queue and one loaded scorer; tests and `moderator serve` build it alike."""
    server = Server(
        settings=settings,
        db_path=db_path,
        model_version=scorer.model_version,
        batcher=MicroBatcher(
            scorer.score,
            max_batch=settings.batch_max,
            max_wait_s=settings.batch_wait_ms / 1000,
            words=getattr(scorer, "toxic_words_of", None),
            score_toxicity=getattr(scorer, "score_toxicity", None),
        ),
        db=DbThread(Intake(db_path, policy)),
        limiter=RateLimiter(settings.rate_per_s, settings.rate_burst),
        review_from=policy.review_edge("toxicity"),
        reject_from=policy.reject_edge("toxicity"),
    )
    if hasattr(scorer, "words_until"):  # no words while scoring: computed above only where they are read
        scorer.words_until = 0.0

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        server.batcher.start()
        try:
            yield
        finally:  # uvicorn got SIGTERM and in-flight requests finished: stop scoring, finish writes, close
            await server.batcher.stop()
            server.db.close()

    routes = [
        Route("/v1alpha1/comments:analyze", analyze, methods=["POST"]),
        Route("/v1alpha1/comments:suggestscore", suggest_score, methods=["POST"]),
        Route("/$discovery/rest", discovery, methods=["GET"]),
        Route("/coral/moderation", coral_moderation, methods=["POST"]),
        Route("/v1/articles/{article_id:path}", put_article, methods=["PUT"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={ApiError: api_error, HTTPException: http_error, StoreError: store_error},
    )
    app.state.server = server
    return app
