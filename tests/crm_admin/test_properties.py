"""Property-based tests (Hypothesis) of the portal's two doors to the outside: the OAuth callback's query string
and the link-start form. Whatever arrives: never a 500, never a change of state beyond what the request is
for, never an unescaped echo (issue 11). Example counts come from the profile in tests/conftest.py.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import responses
import time_machine
from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from crm_admin.models import (
    AuthorizationOutcome,
    LinkEvent,
    PendingAuthorization,
    PendingRevoke,
    SalesforceLink,
    SalesforceToken,
)

pytestmark = pytest.mark.django_db

CALLBACK = "/crm-admin/salesforce/callback/"
LINK_START = "/accounts/acme/crm-admin/salesforce/link/"
HTML_SPECIAL = set("<>\"'&")

# --- Strategies -------------------------------------------------------------------------------------------

#: Any text a client can send: every Unicode character but lone surrogates, NUL and controls included.
any_text = st.text(max_size=300)
#: Short values built from the pieces that matter to URLs, HTML and SQL, so collisions happen often.
TRICKY_PIECES = [*"aZ09 =&%+;#?/\\<>\"'`\x00\n\r\té🙂", "%00", "%3C", "%ZZ", "state", "code"]
tricky_text = st.lists(st.sampled_from(TRICKY_PIECES), max_size=40).map("".join)
values = st.one_of(any_text, tricky_text)
callback_keys = st.one_of(
    st.sampled_from(["state", "code", "error", "error_description", "error_uri", "account", "next", "iss"]),
    any_text,
)
#: A query string as a list of pairs (repeated names allowed), percent-encoded as a browser would.
encoded_query = st.lists(st.tuples(callback_keys, values), max_size=6).map(urlencode)
#: A query string as raw text, invalid percent escapes and stray separators included.
QUERY_PIECES = [*"=&%+;?/ <>\"'é\x00", "state", "code", "error", "%73", "%00", "%2", "%%", "%2573"]
raw_query = st.lists(st.sampled_from(QUERY_PIECES), max_size=40).map("".join)
callback_query = st.one_of(encoded_query, raw_query)

link_start_form = st.dictionaries(
    st.one_of(st.sampled_from(["org_type", "login_hint", "display", "client_ref", "account", "slug"]), any_text),
    values,
    max_size=6,
).flatmap(
    lambda extra: st.fixed_dictionaries(
        {},
        optional={
            "org_type": st.one_of(st.sampled_from(["production", "sandbox", "Production", ""]), values),
            "login_hint": st.one_of(values, st.text(min_size=250, max_size=260), st.emails()),
            "display": st.one_of(st.sampled_from(["popup", "tab", ""]), values),
            "client_ref": st.one_of(st.uuids().map(str), values),
        },
    ).map(lambda form: {**extra, **form})
)


# --- Helpers --------------------------------------------------------------------------------------------


def portal_state() -> dict[str, object]:
    """Everything a callback or link start could change, to compare before and after one request."""
    return {
        "links": list(SalesforceLink.objects.order_by("pk").values()),
        "attempts": list(PendingAuthorization.objects.order_by("pk").values()),
        "events": list(LinkEvent.objects.order_by("pk").values()),
        "tokens": list(SalesforceToken.objects.order_by("pk").values()),
        "revokes": list(PendingRevoke.objects.order_by("pk").values()),
    }


def assert_no_unescaped_echo(body: bytes, sent: list[str], *, baseline: bytes) -> None:
    """A value with an HTML-special character never comes back verbatim: it was escaped or left out.

    ``baseline`` is the same kind of page drawn without these inputs: a value that is already part of its
    markup (``<``, ``="``) is not an echo.
    """
    text, markup = body.decode(errors="replace"), baseline.decode(errors="replace")
    for value in sent:
        if HTML_SPECIAL & set(value) and value not in markup:
            assert value not in text, value


def sent_values(query_string: str) -> list[str]:
    query = QueryDict(query_string)
    return [item for name, items in query.lists() for item in [name, *items]]


@pytest.fixture
def clock():
    """Each example happens two minutes after the last, so the start rate limit never interferes.

    Examples log in again at their own time (``force_login``), so no session outlives its cookie age.
    """
    start = timezone.now()
    return (start + timedelta(minutes=2 * n) for n in itertools.count())


# --- The callback --------------------------------------------------------------------------------------


@pytest.fixture
def refusal_page(admin_client_) -> bytes:
    """The callback's answer to a request with no state at all: the page every bad callback gets."""
    return admin_client_.get(CALLBACK).content


@given(query_string=callback_query)
def test_callback_with_any_query_and_no_live_state_changes_nothing(admin_client_, account, refusal_page, query_string):
    before = portal_state()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as outbound:
        response = admin_client_.get(f"{CALLBACK}?{query_string}")
        assert len(outbound.calls) == 0  # checklist A6: no token request without a valid state
    assert response.status_code == 400
    assert response["Referrer-Policy"] == "no-referrer" and "no-store" in response["Cache-Control"]
    assert portal_state() == before
    assert_no_unescaped_echo(response.content, sent_values(query_string), baseline=refusal_page)


@given(
    extra=st.lists(st.tuples(callback_keys.filter(lambda key: key != "state"), values), max_size=5),
    display=st.sampled_from(["popup", "tab"]),
)
def test_callback_of_a_live_attempt_with_any_other_parameters_never_links(
    admin_client_, admin_user, account, clock, extra, display
):
    with time_machine.travel(next(clock), tick=False):
        admin_client_.force_login(admin_user)
        started = admin_client_.post(LINK_START, {"org_type": "production", "display": display})
        state = dict(parse_qsl(urlsplit(started["Location"]).query))["state"]
        pending = PendingAuthorization.objects.order_by("-created_at").first()
        landing_url = (
            reverse("crm_admin:attempt_done", args=[account.slug, pending.pk])
            if display == "popup"
            else reverse("crm_admin:page", args=[account.slug])
        )
        baseline = admin_client_.get(landing_url).content
        query_string = urlencode([("state", state), *extra])
        links_before = list(SalesforceLink.objects.values())
        with responses.RequestsMock(assert_all_requests_are_fired=False) as outbound:
            outbound.post(
                f"{settings.SALESFORCE_PRODUCTION_LOGIN_URL}/services/oauth2/token",
                status=400,
                json={"error": "invalid_grant", "error_description": "authentication failure"},
            )
            response = admin_client_.get(f"{CALLBACK}?{query_string}")
            replay = admin_client_.get(f"{CALLBACK}?{query_string}")
        landing = admin_client_.get(response["Location"])

    assert response.status_code == 302 and response["Location"] == landing_url
    assert replay.status_code == 400  # the state was single-use
    attempt = PendingAuthorization.objects.order_by("-created_at").first()
    assert attempt.consumed_at is not None
    assert attempt.outcome in (AuthorizationOutcome.DENIED, AuthorizationOutcome.FAILED)
    assert list(SalesforceLink.objects.values()) == links_before
    assert not SalesforceToken.objects.exists() and not PendingRevoke.objects.exists()
    assert landing.status_code == 200
    assert_no_unescaped_echo(landing.content, sent_values(query_string), baseline=baseline)


# --- The link-start form ------------------------------------------------------------------------------


@pytest.fixture
def link_start_pages(admin_client_) -> bytes:
    """The two pages a refused start can end on: the popup's refusal and the CRM Admin page."""
    popup = admin_client_.post(LINK_START, {"org_type": "neither", "display": "popup"}).content
    return popup + admin_client_.get("/accounts/acme/crm-admin/").content


@given(form=link_start_form)
def test_link_start_with_any_form_starts_at_most_one_attempt_and_never_links(
    admin_client_, admin_user, account, clock, link_start_pages, form
):
    before = portal_state()
    with time_machine.travel(next(clock), tick=False):
        admin_client_.force_login(admin_user)
        response = admin_client_.post(LINK_START, form)
    after = portal_state()

    assert response.status_code in (302, 303, 400)
    assert {key: after[key] for key in ("links", "events", "tokens", "revokes")} == {
        key: before[key] for key in ("links", "events", "tokens", "revokes")
    }
    known = {attempt["id"] for attempt in before["attempts"]}
    new_attempts = [attempt for attempt in after["attempts"] if attempt["id"] not in known]
    if response.status_code == 302:
        # Sent to Salesforce's authorize endpoint, never elsewhere, with the hint intact.
        [attempt] = new_attempts
        location = response["Location"]
        login_url = {"production": settings.SALESFORCE_PRODUCTION_LOGIN_URL}.get(
            attempt["org_type"], settings.SALESFORCE_SANDBOX_LOGIN_URL
        )
        assert location.startswith(f"{login_url}/services/oauth2/authorize?")
        assert dict(parse_qsl(urlsplit(location).query)).get("login_hint", "") == attempt["login_hint"]
        assert attempt["login_hint"] == form.get("login_hint", "").strip()
    else:
        assert new_attempts == []
        page = response if response.status_code == 400 else admin_client_.get(response["Location"])
        assert_no_unescaped_echo(page.content, [*form.keys(), *form.values()], baseline=link_start_pages)
