"""Time as the queue stores it: UTC ISO strings, and the moments `--since`/`--until` accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from moderator.clock import BadMoment, iso, parse_moment


def test_iso_is_utc_to_the_second_with_a_z() -> None:
    berlin = timezone(timedelta(hours=1))
    assert iso(datetime(2026, 11, 2, 10, 30, 15, 999, tzinfo=berlin)) == "2026-11-02T09:30:15Z"


def test_parse_moment_reads_dates_offsets_and_naive_times_as_utc() -> None:
    assert parse_moment("2026-11-02") == datetime(2026, 11, 2, tzinfo=UTC)
    assert parse_moment("2026-11-02", end_of_day=True) == datetime(2026, 11, 2, 23, 59, 59, tzinfo=UTC)
    assert parse_moment("2026-11-02T10:00:00+01:00") == datetime(2026, 11, 2, 9, tzinfo=UTC)
    assert parse_moment("2026-11-02T09:30:00Z") == parse_moment("2026-11-02T09:30:00")


def test_a_bad_moment_is_a_value_error_naming_the_value() -> None:
    with pytest.raises(BadMoment) as refused:
        parse_moment("yesterday")
    assert isinstance(refused.value, ValueError)
    assert str(refused.value) == "'yesterday' is not an ISO 8601 date or date-time"
