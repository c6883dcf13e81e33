"""``support.console.ReversedOnce`` gives what ``reverse()`` gives, for any argument."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix
from hypothesis import given
from hypothesis import strategies as st

from support.console import ReversedOnce

plain = st.text(alphabet="abcXYZ019-_", min_size=1, max_size=30)
#: Anything, quoting and converter refusals included.
anything = st.one_of(plain, st.text(max_size=30))


def reverse_or_refusal(viewname: str, **kwargs: str) -> str:
    try:
        return reverse(viewname, kwargs=kwargs)
    except NoReverseMatch:
        return "refused"


def filled_or_refusal(url: ReversedOnce, **kwargs: str) -> str:
    try:
        return url(**kwargs)
    except NoReverseMatch:
        return "refused"


@given(slug=anything)
def test_account_url_is_what_reverse_gives(slug):
    assert filled_or_refusal(ReversedOnce("support:account", "slug"), slug=slug) == reverse_or_refusal(
        "support:account", slug=slug
    )


@given(org_id=anything, user_id=anything)
def test_api_user_url_is_what_reverse_gives(org_id, user_id):
    url = ReversedOnce("support:api_user", "org_id", "user_id")
    assert filled_or_refusal(url, org_id=org_id, user_id=user_id) == reverse_or_refusal(
        "support:api_user", org_id=org_id, user_id=user_id
    )


@pytest.mark.parametrize("value", ["__user_id__", "x__org_id__y", "__slug__"])
def test_an_argument_that_looks_like_a_placeholder_is_filled_in_as_it_is(value):
    url = ReversedOnce("support:api_user", "org_id", "user_id")
    assert url(org_id=value, user_id="__org_id__") == reverse(
        "support:api_user", kwargs={"org_id": value, "user_id": "__org_id__"}
    )


def test_it_keeps_the_script_prefix_it_was_made_under():
    set_script_prefix("/portal/")
    try:
        url = ReversedOnce("support:account", "slug")
        assert url(slug="acme") == "/portal/support/accounts/acme/" == reverse("support:account", args=["acme"])
    finally:
        set_script_prefix("/")
