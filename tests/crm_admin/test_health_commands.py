"""check_links, run_scheduler and run_worker."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from crm_admin import exceptions
from crm_admin.models import LinkHealth, SalesforceLink
from tests.factories import AccountFactory, ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_check_links_needs_to_be_told_what_to_check():
    with pytest.raises(CommandError, match="--all"):
        run("check_links")


def test_check_links_for_one_account_checks_only_it(account, fake_sf):
    link = make_linked(account, ApiUserFactory(), refresh_token="mine")
    make_linked(AccountFactory(), ApiUserFactory(), refresh_token="not-mine")
    output = run("check_links", "--account", "acme")
    assert [call["token"] for name, call in fake_sf.calls if name == "refresh"] == ["mine"]
    assert "acme" in output and "healthy" in output and "1 healthy" in output
    assert SalesforceLink.objects.get(pk=link.pk).health == LinkHealth.HEALTHY


def test_check_links_by_api_user_and_all_with_a_summary_table(fake_sf):
    shared = ApiUserFactory(username="shared@acme.example")
    for n in range(3):
        make_linked(AccountFactory(slug=f"branch-{n}"), shared, refresh_token=f"b{n}")
    make_linked(AccountFactory(slug="other"), ApiUserFactory(), refresh_token="dead")
    fake_sf.refresh_invalid.add("dead")
    output = run("check_links", "--api-user", "SHARED@acme.example")
    assert fake_sf.called("refresh") == 3 and "3 healthy" in output
    output = run("check_links", "--all")
    assert "Link health" in output and "3 healthy, 1 attention" in output
    assert "Salesforce revoked this link" in output


def test_check_links_reports_temporary_failures(account, fake_sf):
    make_linked(account, ApiUserFactory())
    fake_sf.fail["refresh"] = exceptions.SalesforceUnavailableError()
    output = run("check_links", "--all")
    assert "1 unknown" in output and "did not answer" in output


def test_check_links_refuses_an_account_without_a_link(account):
    with pytest.raises(CommandError, match="acme"):
        run("check_links", "--account", "acme")


def test_run_scheduler_enqueues_what_is_due(account, fake_sf):
    link = make_linked(account, ApiUserFactory())
    SalesforceLink.objects.filter(pk=link.pk).update(next_check_at=timezone.now() - timedelta(seconds=1))
    output = run("run_scheduler")
    assert "enqueued 1 health check(s) and 0 revoke retry(ies)" in output
    assert fake_sf.called("refresh") == 1  # the immediate backend ran it


def test_run_worker_refuses_a_backend_without_workers():
    with pytest.raises(CommandError, match="without a worker"):
        run("run_worker")
