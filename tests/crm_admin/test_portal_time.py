"""The portal's time filters write exactly what Django's ``date`` filter writes with the formats they replace."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone as django_timezone
from hypothesis import given
from hypothesis import strategies as st

from crm_admin.templatetags.portal_time import iso_time, utc_minute, utc_second

#: Each filter and the ``date`` format it stands for (the template engine hands ``date`` the value in the
#: current time zone: compare them as templates render them).
EQUIVALENTS = [(iso_time, "c"), (utc_minute, "j M Y, H:i"), (utc_second, "j M Y, H:i:s")]

#: Any moment a time zone shift keeps within ``datetime``'s years.
BOUNDS = {"min_value": datetime(1, 1, 2), "max_value": datetime(9999, 12, 30)}
aware = st.datetimes(**BOUNDS, timezones=st.sampled_from([UTC, ZoneInfo("Asia/Kolkata")]))
naive = st.datetimes(**BOUNDS)


def render_both(ours, django_format: str, moment: datetime) -> tuple[str, str]:
    context = Context({"m": moment})
    mine = Template(f"{{% load portal_time %}}{{{{ m|{ours.__name__} }}}}").render(context)
    djangos = Template(f'{{{{ m|date:"{django_format}" }}}}').render(context)
    return mine, djangos


@pytest.mark.parametrize(("ours", "django_format"), EQUIVALENTS)
@given(moment=st.one_of(aware, naive))
def test_each_filter_writes_what_the_date_filter_writes(ours, django_format, moment):
    mine, djangos = render_both(ours, django_format, moment)
    assert mine == djangos


@pytest.mark.parametrize(("ours", "django_format"), EQUIVALENTS)
@given(moment=aware)
def test_in_another_current_time_zone_too(ours, django_format, moment):
    with django_timezone.override(timezone(timedelta(hours=-5), "EST")):
        mine, djangos = render_both(ours, django_format, moment)
    assert mine == djangos


@pytest.mark.parametrize("ours", [iso_time, utc_minute, utc_second])
@pytest.mark.parametrize("value", [None, "", "2026-12-07", 0])
def test_anything_but_a_datetime_writes_nothing(ours, value):
    assert ours(value) == ""


def test_a_date_without_a_time_is_written_as_the_date_filter_writes_it():
    """``iso_time`` as ``date:"c"``. (With a time format ``date`` raises on a date; ours write nothing.)"""
    mine, djangos = render_both(iso_time, "c", date(2026, 12, 7))
    assert mine == djangos == "2026-12-07"
    assert utc_minute(date(2026, 12, 7)) == utc_second(date(2026, 12, 7)) == ""


@pytest.mark.parametrize(("ours", "django_format"), EQUIVALENTS)
@given(moment=aware)
def test_localtime_off_is_honoured_as_by_the_date_filter(ours, django_format, moment):
    context = Context({"m": moment})
    off = "{% load tz portal_time %}{% localtime off %}"
    mine = Template(f"{off}{{{{ m|{ours.__name__} }}}}{{% endlocaltime %}}")
    djangos = Template(f'{off}{{{{ m|date:"{django_format}" }}}}{{% endlocaltime %}}')
    with django_timezone.override(timezone(timedelta(hours=-5), "EST")):
        assert mine.render(context) == djangos.render(context)


def test_in_a_template():
    moment = datetime(2026, 12, 7, 3, 4, 5, 6, tzinfo=UTC)
    rendered = Template(
        '{% load portal_time %}<time datetime="{{ m|iso_time }}">{{ m|utc_minute }}</time> {{ m|utc_second }}'
    ).render(Context({"m": moment}))
    assert rendered == '<time datetime="2026-12-07T03:04:05.000006+00:00">7 Dec 2026, 03:04</time> 7 Dec 2026, 03:04:05'
