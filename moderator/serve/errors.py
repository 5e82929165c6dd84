"""Errors in Google's JSON shape, so Perspective clients (and Google's own library) read them as they expect."""

from __future__ import annotations

from typing import Any

# HTTP code -> Google's canonical status name (google.rpc.Code), for the codes this server answers with.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    409: "ABORTED",
    413: "OUT_OF_RANGE",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """A refused request: its HTTP code and a message for the client's developer (never the comment's text)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": STATUS_NAMES.get(self.code, "UNKNOWN")}}


class BadRequest(ApiError):
    """400 INVALID_ARGUMENT: the request's JSON is not what the method takes."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)
