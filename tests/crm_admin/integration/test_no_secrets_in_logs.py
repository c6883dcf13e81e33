"""Checklist E5: no code, state, verifier, token or client secret in any log line, on success or failure."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.views.debug import ExceptionReporter

from crm_admin import crypto
from crm_admin.models import PendingAuthorization, SalesforceLink
from tests.crm_admin.integration.conftest import Portal, query

pytestmark = pytest.mark.django_db(transaction=True)


def secrets_of(portal: Portal, started_url: str, callback_url: str) -> list[str]:
    values = [
        settings.SALESFORCE_CLIENT_SECRET,
        query(started_url)["state"],
        query(callback_url).get("code", ""),
    ]
    for attempt in PendingAuthorization.objects.all():
        values.append(crypto.decrypt(attempt.code_verifier_encrypted))
    link = SalesforceLink.objects.select_related("token").get(account__slug=portal.slug)
    if link.token:
        values.append(crypto.decrypt(link.token.refresh_token_encrypted))
    return [v for v in values if v]


@pytest.mark.parametrize("username", ["api@acme.example", "noapi@acme.example"])
def test_success_and_refusal_log_no_secret(portal: Portal, caplog, username):
    caplog.set_level(logging.DEBUG)
    started = portal.start()
    callback_url = portal.salesforce(started["Location"], username)
    portal.callback(callback_url)
    for secret in secrets_of(portal, started["Location"], callback_url):
        assert secret not in caplog.text


def test_access_log_redacts_the_callbacks_code_and_state():
    from vcc_portal.logging import RedactQuerySecrets

    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /crm-admin/salesforce/callback/?code=SECRETCODE&state=SECRETSTATE HTTP/1.1", "302", "0"),
        None,
    )
    RedactQuerySecrets().filter(record)
    assert "SECRETCODE" not in record.getMessage() and "SECRETSTATE" not in record.getMessage()
    assert "code=[redacted]" in record.getMessage()


def redacted_access_line(request_line: str) -> str:
    from vcc_portal.logging import RedactQuerySecrets

    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, '"%s" %s %s', (request_line, "302", "0"), None
    )
    RedactQuerySecrets().filter(record)
    return record.getMessage()


@pytest.mark.parametrize(
    "query_string",
    [
        "%73tate=SECRETSTATE&%63ode=SECRETCODE",
        "st%61te=SECRETSTATE&c%6Fd%65=SECRETCODE",
        "%2573tate=SECRETSTATE&%25%36%33ode=SECRETCODE",
        "STATE=SECRETSTATE&Code=SECRETCODE",
        "x=1&&code=SECRETCODE&state=SECRETSTATE&y=2",
        "next=%2Fcrm-admin%2Fsalesforce%2Fcallback%2F%3Fcode%3DSECRETCODE%26state%3DSECRETSTATE",
        "%72efresh_token=SECRETCODE&access%5Ftoken=SECRETSTATE",
    ],
)
def test_access_log_redacts_percent_encoded_parameter_names(query_string):
    """Issue 11 item 4: names are compared after decoding, so ``%73tate=`` is ``state=``."""
    line = redacted_access_line(f"GET /crm-admin/salesforce/callback/?{query_string} HTTP/1.1")
    assert "SECRETCODE" not in line and "SECRETSTATE" not in line
    assert "[redacted]" in line and line.endswith('HTTP/1.1" 302 0')


def test_access_log_keeps_harmless_parameters():
    line = redacted_access_line("GET /support/links/?q=acme&status=linked&codex=1 HTTP/1.1")
    assert line == '"GET /support/links/?q=acme&status=linked&codex=1 HTTP/1.1" 302 0'


def test_error_reports_hide_the_callbacks_code_and_state(rf, admin_user, monkeypatch):
    """The view's locals are masked in error reports (sensitive_variables); logs carry the path only."""
    from django.contrib.sessions.backends.db import SessionStore

    from crm_admin import views
    from crm_admin.services import links as link_services

    def crash(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(link_services, "authorization_consume", crash)
    request = rf.get("/crm-admin/salesforce/callback/?code=SECRETCODE&state=SECRETSTATE")
    request.user = admin_user
    request.session = SessionStore()
    with pytest.raises(RuntimeError) as raised:
        views.salesforce_callback(request)
    reporter = ExceptionReporter(request, raised.type, raised.value, raised.tb)
    frames = reporter.get_traceback_data()["frames"]
    view_frame = next(f for f in frames if f["function"] == "salesforce_callback")
    frame_vars = dict(view_frame["vars"])
    assert "SECRETCODE" not in str(frame_vars["code"]) and "SECRETSTATE" not in str(frame_vars["state"])
