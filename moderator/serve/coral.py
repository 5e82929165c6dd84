"""Coral Talk's External Moderation Phase: the signed request, and the answer Coral acts on.

Coral posts each new or edited comment, signed with ``X-Coral-Signature: sha256=<hex HMAC-SHA256 of the raw
body>``; while a signing secret is rotated the header carries several comma-separated signatures. A request is
accepted when any signature matches any configured secret (compared in constant time), else refused before its
body is even parsed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from moderator.policy import Outcome
from moderator.serve.errors import BadRequest

SIGNATURE_HEADER = "X-Coral-Signature"
ACTIONS = ("NEW", "EDIT")
FLAG_TOXIC = {"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}


def signature_matches(body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """Whether any ``sha256=`` signature in ``header`` is the HMAC of ``body`` under any of ``secrets``."""
    if not header or not secrets:
        return False
    given = [part.strip()[len("sha256=") :] for part in header.split(",") if part.strip().startswith("sha256=")]
    expected = [hmac.new(secret.encode(), body, hashlib.sha256).hexdigest() for secret in secrets]
    matched = False
    for signature in given:
        for digest in expected:  # every pair compared: the time taken says nothing about which matched
            matched |= hmac.compare_digest(signature.lower().encode(), digest.encode())
    return matched


@dataclass(frozen=True)
class CoralRequest:
    """The fields of Coral's moderation request that moderator reads."""

    action: str
    comment_id: str
    body: str
    parent_id: str
    author_id: str
    author_role: str
    story_id: str
    story_url: str
    site_id: str
    tenant_id: str


def _field(data: dict[str, Any], path: str, *, required: bool = False) -> str:
    value: Any = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None or value == "":
        if required:
            raise BadRequest(f"{path}: required")
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{path}: expected a string")
    return value


def parse_coral(data: Any, max_text_bytes: int) -> CoralRequest:
    """A moderation phase request, checked (400 naming the field)."""
    if not isinstance(data, dict):
        raise BadRequest("request body: expected a JSON object")
    request = CoralRequest(
        action=_field(data, "action", required=True),
        comment_id=_field(data, "comment.id", required=True),
        body=_field(data, "comment.body", required=True),
        parent_id=_field(data, "comment.parentID"),
        author_id=_field(data, "author.id"),
        author_role=_field(data, "author.role"),
        story_id=_field(data, "story.id", required=True),
        story_url=_field(data, "story.url"),
        site_id=_field(data, "site.id"),
        tenant_id=_field(data, "tenantID"),
    )
    if request.action not in ACTIONS:
        raise BadRequest(f"action: expected one of {', '.join(ACTIONS)}, got {request.action!r}")
    try:
        size = len(request.body.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadRequest("comment.body: holds a lone surrogate, which is not text") from None
    if size > max_text_bytes:
        raise BadRequest(f"comment.body: too long ({size} bytes; the limit is {max_text_bytes})")
    return request


def coral_answer(outcome: Outcome, *, hold_queued: bool, approve_status: bool) -> tuple[int, dict[str, Any] | None]:
    """The HTTP code and JSON body Coral acts on for the policy's outcome (None: no body, 204).

    Coral has no flag reason for off-topic, so every flag says COMMENT_DETECTED_TOXIC; the rule that fired is
    in moderator's decision log, where the desk shows it.
    """
    if outcome is Outcome.REJECT:
        return 200, {"status": "REJECTED", "actions": [FLAG_TOXIC], "tags": []}
    if outcome is Outcome.QUEUE:
        body: dict[str, Any] = {"actions": [FLAG_TOXIC]}
        if hold_queued:
            body["status"] = "PREMOD"
        return 200, body
    return (200, {"status": "APPROVED"}) if approve_status else (204, None)
