from __future__ import annotations

import pytest

from taskcenter.domain.cron import CronSyntaxError, QuartzCron
from taskcenter.domain.cron.fields import ALL_SPEC, NO_SPEC


def values(seq) -> list[int]:
    return [v for v in seq if v not in (ALL_SPEC, NO_SPEC)]


@pytest.mark.parametrize(
    ("expression", "attribute", "expected"),
    [
        ("* * * ? * *", "seconds", list(range(60))),
        ("*/30 * * ? * *", "seconds", [0, 30]),
        ("/20 * * ? * *", "seconds", [0, 20, 40]),
        ("5/15 * * ? * *", "seconds", [5, 20, 35, 50]),
        ("0 1,2,10 * ? * *", "minutes", [1, 2, 10]),
        ("0 50-10 * ? * *", "minutes", [*range(0, 11), *range(50, 60)]),
        ("0 0 22-2 ? * *", "hours", [0, 1, 2, 22, 23]),
        ("0 0 1-10/3 ? * *", "hours", [1, 4, 7, 10]),
        ("0 0 0 ? NOV-FEB *", "months", [1, 2, 11, 12]),
        ("0 0 0 ? jan,Mar,DEC *", "months", [1, 3, 12]),
        ("0 0 0 ? * FRI-MON", "days_of_week", [1, 2, 6, 7]),
        ("0 0 0 ? * MONDAY", "days_of_week", [2]),
        ("0 0 0 ? * SUN/3", "days_of_week", [1]),
        ("0 0 0 1,15 * ?", "days_of_month", [1, 15]),
        ("0 0 0 1 1 ? 2030,2040-2042", "years", [2030, 2040, 2041, 2042]),
        ("5X 0 0 ? * *", "seconds", [5]),  # Quartz ignores what follows a complete value
        ("*/0 0 0 ? * *", "seconds", list(range(60))),
        ("2/0 0 0 ? * *", "seconds", [2]),
    ],
)
def test_value_sets(expression: str, attribute: str, expected: list[int]) -> None:
    assert values(getattr(QuartzCron.parse(expression), attribute)) == expected


def test_day_flags() -> None:
    assert QuartzCron.parse("0 0 0 L * ?").last_day_of_month
    lw = QuartzCron.parse("0 0 0 LW * ?")
    assert lw.last_day_of_month and lw.nearest_weekday
    offset = QuartzCron.parse("0 0 0 L-3 * ?")
    assert offset.last_day_offset == 3 and not offset.nearest_weekday
    assert QuartzCron.parse("0 0 0 15W * ?").nearest_weekday
    last_friday = QuartzCron.parse("0 0 0 ? * 6L")
    assert last_friday.last_day_of_week and values(last_friday.days_of_week) == [6]
    assert QuartzCron.parse("0 0 0 ? * FRIL").last_day_of_week
    third = QuartzCron.parse("0 0 0 ? * 6#3")
    assert third.nth_day_of_week == 3 and values(third.days_of_week) == [6]
    assert values(QuartzCron.parse("0 0 0 ? * L").days_of_week) == [7]


def test_six_fields_mean_every_year_up_to_the_ceiling() -> None:
    cron = QuartzCron.parse("0 0 0 1 1 ?", max_year=2126)
    assert values(cron.years)[0] == 1970 and values(cron.years)[-1] == 2126


def test_anything_after_the_seventh_field_is_ignored_as_in_quartz() -> None:
    assert QuartzCron.parse("0 0 12 * * ? 2030 whatever").expression == "0 0 12 * * ? 2030 whatever"


@pytest.mark.parametrize(
    ("expression", "field", "fragment"),
    [
        ("0 0 12", "expression", "expected 6 or 7 fields"),
        ("0 0 12 * * *", "day-of-month", "exactly one"),
        ("0 0 12 ? * ?", "day-of-week", "'?' can only be specified"),
        ("60 0 12 * * ?", "seconds", "between 0 and 59"),
        ("0 60 12 * * ?", "minutes", "between 0 and 59"),
        ("0 0 24 * * ?", "hours", "between 0 and 23"),
        ("0 0 0 32 * ?", "day-of-month", "between 1 and 31"),
        ("0 0 0 0 * ?", "day-of-month", "between 1 and 31"),
        ("0 0 0 1 13 ?", "month", "between 1 and 12"),
        ("0 0 0 ? * 8", "day-of-week", "between 1 and 7"),
        ("0 0 0 ? * 0", "day-of-week", "between 1 and 7"),
        ("0 0 0 ? FOO *", "month", "invalid month value"),
        ("0 0 0 ? * FOO", "day-of-week", "invalid day-of-week value"),
        ("0 0 0 L-31 * ?", "day-of-month", "offset from last day"),
        ("0 0 0 ? * 6#6", "day-of-week", "between 1 and 5"),
        ("0 0 0 ? * 6#0", "day-of-week", "between 1 and 5"),
        ("0 0 0 ? * 1#1,2#2", "day-of-week", "only one"),
        ("0 0 0 L,5 * ?", "day-of-month", "cannot be combined"),
        ("0 0 0 5L * ?", "day-of-month", "'L' option is not valid here"),
        ("0 0 0 ? * 5W", "day-of-week", "'W' option is not valid here"),
        ("0/60 0 0 ? * *", "seconds", "larger than the field's range"),
        ("0 0 0 1 1 ? 2030-2020", "year", "start year"),
        ("L 0 0 ? * *", "seconds", "no value"),
        ("0 0 0 ? * 1-", "day-of-week", "ends unexpectedly"),
        ("0 0 0 ? * */", "day-of-week", "'/' must be followed"),
        ("0 0 @ ? * *", "hours", "unexpected character"),
        ("0 0 12 ? JAN- *", "month", "ends unexpectedly"),
        ("", "expression", "empty"),
    ],
)
def test_invalid_expressions_name_the_field(expression: str, field: str, fragment: str) -> None:
    with pytest.raises(CronSyntaxError) as caught:
        QuartzCron.parse(expression)
    assert caught.value.field == field
    assert fragment in caught.value.reason
    assert str(caught.value).startswith(f"{field}: ")


def test_a_question_mark_in_day_of_week_with_an_empty_day_of_month_names_day_of_month() -> None:
    with pytest.raises(CronSyntaxError) as caught:
        QuartzCron.parse("0 0 0 , * ?")
    assert str(caught.value) == "day-of-month: no value (a lone ',' gives nothing to fire at)"


def test_errors_quote_the_value_as_the_user_wrote_it() -> None:
    with pytest.raises(CronSyntaxError) as caught:
        QuartzCron.parse("0 0 0 ? jan- *")
    assert str(caught.value) == "month: the value ends unexpectedly (in 'jan-')"


@pytest.mark.parametrize(
    ("unix", "message"),
    [
        ("0 0 * * 1-9", "day-of-week (Unix field 5): values must be between 0 and 7 (0 and 7 are Sunday) (in '1-9')"),
        ("0 0 * * 5/9", "day-of-week (Unix field 5): step 9 is larger than the field's range (in '5/9')"),
        ("0 0 * * 1,8L", "day-of-week (Unix field 5): values must be between 0 and 7 (0 and 7 are Sunday) (in '8L')"),
        ("0 0 * * mon-", "day-of-week (Unix field 5): the value ends unexpectedly (in 'mon-')"),
        (
            "0 0 * * 2#6",
            "day-of-week (Unix field 5): a numeric value between 1 and 5 must follow the '#' option (in '2#6')",
        ),
        ("0 0 * * */9", "day-of-week (Unix field 5): step 9 is larger than the field's range (in '*/9')"),
        ("60 0 * * *", "minute (Unix field 1): values must be between 0 and 59 (in '60')"),
        ("0 24 * * *", "hour (Unix field 2): values must be between 0 and 23 (in '24')"),
        ("0 0 1,32 * *", "day-of-month (Unix field 3): values must be between 1 and 31 (in '32')"),
        ("0 0 * jan,foo *", "month (Unix field 4): invalid month value: 'FOO' (in 'foo')"),
        (", 0 * * *", "minute (Unix field 1): no value (a lone 'L' or ',' gives nothing to fire at)"),
        ("0 12 1 * 1", "day-of-month (Unix field 3) and day-of-week (Unix field 5): a 5-field cron restricting both"),
    ],
)
def test_unix_cron_errors_name_the_unix_field_and_quote_what_the_user_wrote(unix: str, message: str) -> None:
    with pytest.raises(CronSyntaxError) as caught:
        QuartzCron.parse(unix)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("unix", "quartz"),
    [
        ("*/5 * * * *", "0 */5 * * * ?"),
        ("30 9 * * 1-5", "0 30 9 ? * 2-6"),
        ("0 0 * * 0", "0 0 0 ? * 1"),
        ("0 0 * * 7", "0 0 0 ? * 1"),
        ("0 0 * * 5-7", "0 0 0 ? * 6-1"),
        ("0 0 * * 0-7", "0 0 0 ? * *"),
        ("0 0 * * */2", "0 0 0 ? * */2"),
        ("0 0 * * MON,FRI", "0 0 0 ? * 2,6"),
        ("0 0 * * 1/2", "0 0 0 ? * 2-1/2"),  # n/step is n-7/step, as in cronie: Sunday (7) included
        ("0 0 * * 0/2", "0 0 0 ? * */2"),
        ("0 0 * * 0-6/2", "0 0 0 ? * 1-7/2"),
        ("0 0 * * 1-7/2", "0 0 0 ? * 2-1/2"),
        ("0 0 * * MON-FRI/2", "0 0 0 ? * 2-6/2"),
        ("0 0 * * 1#2", "0 0 0 ? * 2#2"),
        ("0 0 * * 5L", "0 0 0 ? * 6L"),
        ("0 0 * * 0L", "0 0 0 ? * 1L"),
        ("0 12 1,15 * *", "0 0 12 1,15 * ?"),
        ("@daily", "0 0 0 * * ?"),
        ("@weekly", "0 0 0 ? * 1"),
        ("@hourly", "0 0 * * * ?"),
    ],
)
def test_unix_cron_is_normalized_to_quartz(unix: str, quartz: str) -> None:
    cron = QuartzCron.parse(unix)
    assert cron.expression == quartz
    assert cron.source == unix


def _cronie_days(start: int, end: int, step: int) -> set[int]:
    """What cronie fires on for `start-end/step` in day-of-week (0-6, Sunday = 0 = 7)."""
    return {day % 7 for day in range(start, end + 1, step)}


def _unix_days(field: str) -> set[int]:
    """The Unix days (0-6) our Quartz form of `0 0 * * field` fires on."""
    return {day - 1 for day in values(QuartzCron.parse(f"0 0 * * {field}").days_of_week)}


def test_unix_day_of_week_ranges_and_steps_mean_what_cronie_means() -> None:
    names = "SUN MON TUE WED THU FRI SAT".split()
    cases = [(str(day), _cronie_days(day, day, 1)) for day in range(8)]
    cases += [(f"*/{step}", _cronie_days(0, 7, step)) for step in range(1, 8)]
    for start in range(8):
        cases += [(f"{start}/{step}", _cronie_days(start, 7, step)) for step in range(1, 8)]
        for end in range(start, 8):
            cases.append((f"{start}-{end}", _cronie_days(start, end, 1)))
            cases += [(f"{start}-{end}/{step}", _cronie_days(start, end, step)) for step in range(1, 10)]
    for start, name in enumerate(names):
        cases += [(f"{name}/{step}", _cronie_days(start, 7, step)) for step in range(1, 8)]
        cases += [(f"{name.lower()}-{names[end]}/2", _cronie_days(start, end, 2)) for end in range(start, 7)]
    wrong = [(field, sorted(_unix_days(field)), sorted(days)) for field, days in cases if _unix_days(field) != days]
    assert not wrong, wrong[:10]
    assert _unix_days("1/2") == {1, 3, 5, 0}  # Mon, Wed, Fri, Sun


def test_unix_day_of_week_special_forms() -> None:
    assert _unix_days("5-7") == {5, 6, 0}
    assert _unix_days("0-7") == set(range(7))
    nth = QuartzCron.parse("0 0 * * 1#2")
    assert nth.nth_day_of_week == 2 and values(nth.days_of_week) == [2]  # second Monday
    last = QuartzCron.parse("0 0 * * 5L")
    assert last.last_day_of_week and values(last.days_of_week) == [6]  # last Friday
