"""The one clock: OPSWEEK_NOW, durations (48h / 2d / 2bd) and dates people type."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from opsweek import clock
from opsweek.cli.main import main
from opsweek.errors import InputError

UTC = timezone.utc
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
FRIDAY = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


def test_now_is_frozen_by_opsweek_now(frozen_now):
    assert clock.now() == frozen_now
    assert clock.today() == date(2026, 11, 24)
    assert clock.iso_week() == "2026-W48"


def test_opsweek_now_with_offset_is_converted_to_utc(monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", "2026-11-24T09:00:00+01:00")
    assert clock.now() == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_now_without_opsweek_now_is_current_utc():
    before = datetime.now(UTC).replace(microsecond=0)
    assert before <= clock.now() <= before + timedelta(seconds=5)
    assert clock.now().tzinfo is not None


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "not a time", "1700000000"])
def test_bad_opsweek_now_is_a_clear_input_error(monkeypatch, bad):
    monkeypatch.setenv("OPSWEEK_NOW", bad)
    with pytest.raises(InputError) as caught:
        clock.now()
    message = str(caught.value)
    assert "OPSWEEK_NOW" in message and bad in message and "accepted" in message


def test_bad_opsweek_now_through_the_cli_is_one_line_and_exit_2(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("OPSWEEK_NOW", "next tuesday")
    db = tmp_path / "demo.db"
    code = main(["--db", str(db), "demo", "--no-tui"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "OPSWEEK_NOW" in err and "Traceback" not in err


# --- durations -------------------------------------------------------------------------


def test_hours_and_calendar_days():
    assert clock.parse_duration("48h").after(FRIDAY) == FRIDAY + timedelta(hours=48)
    assert clock.parse_duration("2d").after(FRIDAY) == FRIDAY + timedelta(days=2)
    assert clock.parse_duration("30m").timedelta() == timedelta(minutes=30)
    assert clock.parse_duration("1w").timedelta() == timedelta(days=7)


def test_durations_are_case_and_space_tolerant_and_print_back():
    assert str(clock.parse_duration("2BD")) == "2bd"
    assert str(clock.parse_duration(" 48 h ")) == "48h"
    assert str(clock.parse_duration("2.5d")) == "2.5d"
    assert clock.parse_duration(3) == clock.Duration(3.0, "d")  # a bare number means days


@pytest.mark.parametrize("bad", ["", "x", "2", "-2d", "1y", "2 days", "bd"])
def test_bad_durations_name_what_is_accepted(bad):
    with pytest.raises(InputError, match=r"accepted: .*48h.*2bd"):
        clock.parse_duration(bad, "handoff_sla")


def test_negative_number_duration_is_refused():
    with pytest.raises(InputError, match="negative"):
        clock.parse_duration(-1)


def test_business_days_within_a_week():
    tuesday = TUESDAY
    assert clock.parse_duration("2bd").after(tuesday) == tuesday + timedelta(days=2)


def test_business_day_sla_across_a_weekend_from_friday():
    # Friday 15:00 + 1 business day = Monday 15:00 (Saturday and Sunday do not count)
    assert clock.parse_duration("1bd").after(FRIDAY) == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert clock.parse_duration("2bd").after(FRIDAY) == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    # while 2 calendar days from Friday land on Sunday
    assert clock.parse_duration("2d").after(FRIDAY).weekday() == 6


def test_business_day_sla_sent_on_saturday_starts_on_monday():
    # the clock does not run at weekends: a Saturday send counts from Monday 00:00,
    # so one business day is all of Monday
    due = clock.parse_duration("1bd").after(SATURDAY)
    assert due == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert clock.parse_duration("1bd").after(SATURDAY + timedelta(days=1)) == due  # Sunday: the same


def test_fractional_business_day_skips_the_weekend():
    # Friday 15:00 + half a business day (12h) runs past midnight into the weekend: Monday 03:00
    due = clock.parse_duration("0.5bd").after(FRIDAY)
    assert due.weekday() == 0 and due.date() == date(2026, 11, 30)


def test_exceeded_uses_business_days():
    sla = clock.parse_duration("1bd")
    assert not sla.exceeded(FRIDAY, datetime(2026, 11, 29, 23, 0, tzinfo=UTC))  # Sunday night: not yet
    assert sla.exceeded(FRIDAY, datetime(2026, 11, 30, 15, 1, tzinfo=UTC))


def test_relative_business_days_backwards_skip_the_weekend():
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert clock.parse_relative("-1bd", monday) == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_business_days_between():
    assert clock.business_days_between(date(2026, 11, 27), date(2026, 11, 30)) == 1
    assert clock.business_days_between(date(2026, 11, 23), date(2026, 11, 30)) == 5


# --- dates and times people type ----------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("1 Dec", date(2026, 12, 1)),
        ("Dec 1", date(2026, 12, 1)),
        ("+3d", date(2026, 11, 27)),
        ("+1w", date(2026, 12, 1)),
        ("-1d", date(2026, 11, 23)),
        ("+2bd", date(2026, 11, 26)),
        ("fri", date(2026, 11, 27)),
        ("Friday", date(2026, 11, 27)),
        ("tue", date(2026, 12, 1)),  # a weekday name means the next one, never today
        ("today", date(2026, 11, 24)),
        ("tomorrow", date(2026, 11, 25)),
    ],
)
def test_parse_date_forms(text, expected):
    assert clock.parse_date(text, base=TUESDAY) == expected


def test_parse_date_uses_the_frozen_clock(frozen_now):
    assert clock.parse_date("+3d") == date(2026, 11, 27)


@pytest.mark.parametrize("bad", ["", "   ", "nonsense", "+3x", "2026-02-30"])
def test_bad_dates_name_the_field_and_what_is_accepted(bad):
    with pytest.raises(InputError) as caught:
        clock.parse_date(bad, "due", base=TUESDAY)
    assert str(caught.value).startswith("due: ")
    assert "accepted: 2026-12-01, 1 Dec, +3d, fri" in str(caught.value)


def test_parse_when_iso_and_relative():
    assert clock.parse_when("-3d", base=TUESDAY) == TUESDAY - timedelta(days=3)
    assert clock.parse_when("-36h", base=TUESDAY) == TUESDAY - timedelta(hours=36)
    assert clock.parse_when("2026-11-20T09:00:00Z") == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    # a time without zone is local time (TZ=UTC in tests)
    assert clock.parse_when("2026-11-20T09:00") == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    with pytest.raises(InputError, match="opened: 'soon' is not a time"):
        clock.parse_when("soon", "opened")


def test_stamps_round_trip_and_sort_in_time_order():
    later = TUESDAY + timedelta(hours=1)
    assert clock.stamp(TUESDAY) == "2026-11-24T10:00:00Z"
    assert clock.parse_stamp(clock.stamp(TUESDAY)) == TUESDAY
    assert clock.stamp(TUESDAY) < clock.stamp(later)
    assert clock.parse_stamp(None) is None


def test_local_display_follows_tz(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    assert clock.show("2026-11-24T10:00:00Z") == "2026-11-24 19:00"


def test_week_bounds():
    assert clock.week_bounds("2026-W48") == (date(2026, 11, 23), date(2026, 11, 29))
    with pytest.raises(InputError, match="accepted: 2026-W48"):
        clock.week_bounds("2026-48")


def test_humanize():
    assert clock.humanize(timedelta(days=3, hours=4)) == "3d 4h"
    assert clock.humanize(timedelta(hours=5)) == "5h"
    assert clock.humanize(timedelta(minutes=12)) == "12m"


# --- the SQL threshold agrees with the rule, weekends included ------------------------

from hypothesis import given, settings as hsettings, strategies as st  # noqa: E402


@hsettings(max_examples=400, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
    gap_minutes=st.integers(min_value=0, max_value=60 * 24 * 30),
    text=st.sampled_from(["1bd", "2bd", "5bd", "7d", "48h", "30m", "1w"]),
)
def test_before_is_the_exact_threshold_of_exceeded(start, gap_minutes, text):
    from datetime import timedelta, timezone

    from opsweek.clock import parse_duration

    start = start.replace(tzinfo=timezone.utc, microsecond=0)
    end = start + timedelta(minutes=gap_minutes)
    duration = parse_duration(text)
    assert duration.exceeded(start, end) == (start < duration.before(end))


def test_weekday_words_are_names_not_any_word_starting_like_one():
    from opsweek.clock import parse_date
    from opsweek.errors import InputError

    base = datetime(2026, 11, 24, 10, tzinfo=timezone.utc)  # a Tuesday
    assert parse_date("thurs", base=base) == date(2026, 11, 26)
    assert parse_date("Friday", base=base) == date(2026, 11, 27)
    for word in ("monster", "wedding", "sunny"):
        with pytest.raises(InputError):
            parse_date(word, base=base)


@pytest.mark.parametrize("text, expected", [
    ("1 Dec", date(2026, 12, 1)),
    ("20 Nov", date(2026, 11, 20)),       # a few days back stays this year (an overdue date)
    ("1 Jan", date(2027, 1, 1)),          # no year given, months back: the coming January
    ("1/12/27", date(2027, 1, 12)),       # a two-digit year near now is a year
    ("2026-01-01", date(2026, 1, 1)),     # an explicit year is kept, past or not
])
def test_dates_without_a_year_mean_the_nearest_sensible_one(text, expected):
    base = datetime(2026, 11, 24, 10, tzinfo=timezone.utc)
    assert clock.parse_date(text, base=base) == expected


def test_a_stray_number_is_not_read_as_a_year():
    base = datetime(2026, 11, 24, 10, tzinfo=timezone.utc)
    with pytest.raises(InputError, match="'32 Dec' is not a date"):
        clock.parse_date("32 Dec", base=base)
