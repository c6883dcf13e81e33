"""How the portal writes a moment: ``{{ value|iso_time }}`` for a ``<time datetime>`` attribute and
``{{ value|utc_minute }}`` (or ``utc_second``) for people, "7 Dec 2026, 03:41".

They write what Django's ``date`` filter writes with ``"c"`` and ``"j M Y, H:i"`` (``"j M Y, H:i:s"``) in
the portal's English, without its general format machinery: that costs about 20 µs a value, and a console
page shows a hundred of them (issue 10). Like ``date``, they are ``expects_localtime`` filters: the
template engine hands them the moment in the current time zone (UTC), ``{% localtime %}`` included.
"""

from __future__ import annotations

from datetime import date, datetime

from django import template

register = template.Library()

MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@register.filter(expects_localtime=True)
def iso_time(value: object) -> str:
    """ISO 8601, for machines: ``2026-12-07T03:41:58.123456+00:00`` (a date alone: ``2026-12-07``)."""
    return value.isoformat() if isinstance(value, date) else ""


def _for_people(value: object, *, seconds: bool) -> str:
    if not isinstance(value, datetime):  # a date has no time to show: ``date`` writes nothing either
        return ""
    text = f"{value.day} {MONTHS[value.month]} {value.year:04d}, {value.hour:02d}:{value.minute:02d}"
    return f"{text}:{value.second:02d}" if seconds else text


@register.filter(expects_localtime=True)
def utc_minute(value: object) -> str:
    """Day, month, year and time to the minute, for people: ``7 Dec 2026, 03:41``."""
    return _for_people(value, seconds=False)


@register.filter(expects_localtime=True)
def utc_second(value: object) -> str:
    """As ``utc_minute``, with the seconds: ``7 Dec 2026, 03:41:58``."""
    return _for_people(value, seconds=True)
