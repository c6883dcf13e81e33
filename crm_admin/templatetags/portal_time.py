"""How the portal writes a moment: ``{{ value|iso_time }}`` for a ``<time datetime>`` attribute and
``{{ value|utc_minute }}`` (or ``utc_second``) for people, "7 Dec 2026, 03:41".

They write what Django's ``date`` filter writes with ``"c"`` and ``"j M Y, H:i"`` (``"j M Y, H:i:s"``) in
the portal's English, in the current time zone (UTC), without its general format machinery: that costs
about 20 µs a value, and a console page shows a hundred of them (issue 10).
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()

MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _local(value: object) -> datetime | None:
    """The moment in the current time zone, as the ``date`` filter sees it; None for anything else."""
    if not isinstance(value, datetime):
        return None
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.filter
def iso_time(value: object) -> str:
    """ISO 8601, for machines: ``2026-12-07T03:41:58.123456+00:00``."""
    moment = _local(value)
    return "" if moment is None else moment.isoformat()


def _for_people(value: object, *, seconds: bool) -> str:
    moment = _local(value)
    if moment is None:
        return ""
    text = f"{moment.day} {MONTHS[moment.month]} {moment.year:04d}, {moment.hour:02d}:{moment.minute:02d}"
    return f"{text}:{moment.second:02d}" if seconds else text


@register.filter
def utc_minute(value: object) -> str:
    """Day, month, year and time to the minute, for people: ``7 Dec 2026, 03:41``."""
    return _for_people(value, seconds=False)


@register.filter
def utc_second(value: object) -> str:
    """As ``utc_minute``, with the seconds: ``7 Dec 2026, 03:41:58``."""
    return _for_people(value, seconds=True)
