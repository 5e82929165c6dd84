"""Time as the queue stores it: UTC, ISO 8601 to the second, with a trailing ``Z``.

Why its own module: the store, the export, the CLI and the desk all stamp and compare moments, and a
timestamp written one way and compared another would silently misorder the audit log. It sits below every
other module (it imports nothing of the project), so any of them may use it.
"""

from __future__ import annotations

from datetime import UTC, datetime


class BadMoment(ValueError):
    """A date or date-time that is not ISO 8601; the message names the value and is meant for the user."""


def utc_now() -> datetime:
    """The current moment in UTC: the default clock, which tests replace with a fixed one."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A moment as stored: UTC, whole seconds, ``Z`` (so stored strings sort in time order)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_moment(value: str, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or date-time as UTC (naive means UTC); a bare date means its start, or its end."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadMoment(f"{value!r} is not an ISO 8601 date or date-time") from exc
    if end_of_day and len(value) == 10:
        moment = moment.replace(hour=23, minute=59, second=59)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
