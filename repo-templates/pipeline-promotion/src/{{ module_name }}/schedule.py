"""EventBridge Scheduler expressions, checked here before anything is deployed.

The grammar is Scheduler's (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html):
`rate(<value> <unit>)`, `cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)`
with exactly one of day-of-month and day-of-week being `?`, and `at(yyyy-mm-ddThh:mm:ss)`.
"""

from __future__ import annotations

import re
from datetime import datetime

RATE = re.compile(r"^rate\(([0-9]+) (minute|minutes|hour|hours|day|days)\)$")
AT = re.compile(r"^at\(([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})\)$")
CRON = re.compile(r"^cron\((.+)\)$")
MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"


def _field(atom: str, extra: str = "") -> re.Pattern[str]:
    item = rf"(?:{atom})(?:-(?:{atom}))?(?:/[0-9]+)?"
    return re.compile(rf"^(?:\*(?:/[0-9]+)?|{item}(?:,{item})*{extra})$")


CRON_FIELDS = (
    ("minutes", _field(r"[0-5]?[0-9]")),
    ("hours", _field(r"[01]?[0-9]|2[0-3]")),
    (
        "day-of-month",
        re.compile(r"^(?:\?|L|LW|[0-9]{1,2}W|" + _field(r"[0-9]{1,2}").pattern[1:-1] + ")$"),
    ),
    ("month", _field(rf"1[0-2]|0?[1-9]|{MONTHS}")),
    (
        "day-of-week",
        re.compile(r"^(?:\?|L|[1-7]L|[1-7]#[1-5]|" + _field(rf"[1-7]|{DAYS}").pattern[1:-1] + ")$"),
    ),
    ("year", _field(r"19[7-9][0-9]|2[01][0-9][0-9]")),
)


class ScheduleError(ValueError):
    """EventBridge Scheduler would reject the expression; the message names it and the fix."""


def check(expression: str) -> str:
    """Return `expression` unchanged, or raise ScheduleError naming what Scheduler rejects."""
    hint = "e.g. cron(0 3 * * ? *), rate(1 day) or at(2030-01-31T03:00:00)"
    if match := RATE.match(expression):
        value, unit = int(match.group(1)), match.group(2)
        if value < 1:
            raise ScheduleError(f"schedule {expression!r}: a rate must be at least 1 ({hint})")
        if (value == 1) != (not unit.endswith("s")):
            fixed = unit.rstrip("s") if value == 1 else unit.rstrip("s") + "s"
            raise ScheduleError(
                f"schedule {expression!r}: EventBridge wants rate({value} {fixed}) "
                "(singular for 1, plural otherwise)"
            )
        return expression
    if match := AT.match(expression):
        try:
            datetime.fromisoformat(match.group(1))
        except ValueError:
            raise ScheduleError(
                f"schedule {expression!r}: no such date and time ({hint})"
            ) from None
        return expression
    if match := CRON.match(expression):
        fields = match.group(1).split()
        if len(fields) != len(CRON_FIELDS):
            raise ScheduleError(
                f"schedule {expression!r}: cron takes 6 fields (minutes hours day-of-month month "
                f"day-of-week year), not {len(fields)} ({hint})"
            )
        for (name, pattern), value in zip(CRON_FIELDS, fields, strict=True):
            if not pattern.match(value.upper()):
                raise ScheduleError(f"schedule {expression!r}: {name} field {value!r} is not valid")
        if (fields[2] == "?") == (fields[4] == "?"):
            raise ScheduleError(
                f"schedule {expression!r}: exactly one of day-of-month and day-of-week must be "
                "'?', e.g. cron(0 3 * * ? *)"
            )
        return expression
    raise ScheduleError(f"schedule {expression!r} is not rate(), cron() or at() ({hint})")
