"""Property-based tests (Hypothesis) of the emulator's login form and token endpoint: whatever a client sends,
never a 500, never a change of state it is not entitled to, never an unescaped echo (issue 11). Example
counts come from the profile in tests/conftest.py.
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

from salesforce_emulator.models import AccessToken, AuthorizationCode, AuthorizationRequest, RefreshToken
from salesforce_emulator.seed import DEMO_PASSWORD
from tests.salesforce_emulator.driver import CALLBACK, SECRET, Salesforce, request_id

HTML_SPECIAL = set("<>\"'&")
#: Active users of active orgs on the production host: the right password logs them in.
ACTIVE_USERS = ["api@acme.example", "api8@acme.example", "basic@acme.example"]
#: Every OAuth error the token endpoint may answer (reference §4).
TOKEN_ERRORS = {
    "invalid_request",
    "invalid_client_id",
    "invalid_client",
    "invalid_grant",
    "unsupported_grant_type",
    "redirect_uri_mismatch",
    "inactive_user",
    "inactive_org",
}

# --- Strategies -------------------------------------------------------------------------------------------

any_text = st.text(max_size=200)
TRICKY_PIECES = [*"aZ09 @.=&%+;_\\<>\"'`\x00\n\t\u200bé🙂", "api", "acme", "example", "%", "_"]
tricky_text = st.lists(st.sampled_from(TRICKY_PIECES), max_size=30).map("".join)
values = st.one_of(any_text, tricky_text)


#: What a lookup might wrongly ignore next to a real username: a NUL ends a C string, LIKE has wildcards.
NEAR_MISSES = ["\x00", "\x00anything", " ", "\n", "\t", "%", "_", ".", "\u200b", "\xa0"]


@st.composite
def usernames(draw: st.DrawFn) -> str:
    """Real usernames as they are, with their case changed, next to a near miss or anything, or anything at all."""
    real = draw(st.sampled_from(ACTIVE_USERS))
    kind = draw(st.sampled_from(["exact", "case", "suffix", "prefix", "affixed", "other"]))
    if kind == "exact":
        return real
    if kind == "case":
        flips = draw(st.lists(st.booleans(), min_size=len(real), max_size=len(real)))
        return "".join(c.swapcase() if flip else c for c, flip in zip(real, flips, strict=True))
    if kind == "suffix":
        return real + draw(st.sampled_from(NEAR_MISSES))
    if kind == "prefix":
        return draw(st.sampled_from(NEAR_MISSES)) + real
    if kind == "affixed":
        return draw(values) + real + draw(values)
    return draw(st.one_of(values, st.text(min_size=79, max_size=82), st.emails()))


#: The right password half the time, so near-miss usernames meet it often.
passwords = st.one_of(st.just(DEMO_PASSWORD), st.just(DEMO_PASSWORD), st.just(DEMO_PASSWORD.lower()), values)

token_params = st.fixed_dictionaries(
    {},
    optional={
        "grant_type": st.one_of(st.sampled_from(["authorization_code", "refresh_token", "password", ""]), values),
        "client_id": st.one_of(st.just(settings.SALESFORCE_CLIENT_ID), values),
        "client_secret": st.one_of(st.just(SECRET), values),
        "redirect_uri": st.one_of(st.just(CALLBACK), values),
        # Never the right verifier: no example may obtain a token, so none may change state.
        "code_verifier": st.one_of(st.just("x" * 43), values),
        "refresh_token": values,
        "format": st.sampled_from(["json", "xml", "urlencoded"]),
    },
)
latin1 = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=200)
authorization_headers = st.one_of(
    st.none(),
    latin1,
    st.tuples(values, values).map(lambda pair: "Basic " + base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()),
    st.just("Basic " + base64.b64encode(f"{settings.SALESFORCE_CLIENT_ID}:{SECRET}".encode()).decode()),
)


# --- Helpers --------------------------------------------------------------------------------------------


def emulator_state() -> dict[str, object]:
    """What a login or a token request could change."""
    return {
        "requests": list(AuthorizationRequest.objects.order_by("pk").values("pk", "user_id", "completed_at")),
        "codes": list(AuthorizationCode.objects.order_by("pk").values("pk", "used_at")),
        "refresh_tokens": list(RefreshToken.objects.order_by("pk").values("pk", "revoked_at")),
        "access_tokens": list(AccessToken.objects.order_by("pk").values("pk", "revoked_at")),
    }


def assert_no_unescaped_echo(body: bytes, sent: list[str], *, baseline: bytes) -> None:
    """A value with an HTML-special character never comes back verbatim (unless the page's own markup has it)."""
    text, markup = body.decode(errors="replace"), baseline.decode(errors="replace")
    for value in sent:
        if HTML_SPECIAL & set(value) and value not in markup:
            # Its escaped form may start with the value itself ("a&" in "a&amp;"): look outside it.
            assert value not in text.replace(escape(value), ""), value


# --- The login form -------------------------------------------------------------------------------------


@pytest.fixture
def login_page(sf: Salesforce) -> bytes:
    return sf.authorize().content


@given(
    username=usernames(),
    password=passwords,
    use_real_request=st.sampled_from([True, True, True, False]),
    other=values,
)
def test_login_with_any_credentials_logs_in_only_the_exact_user(
    sf: Salesforce, login_page: bytes, username: str, password: str, use_real_request: bool, other: str
):
    page = sf.authorize()
    rid = request_id(page) if use_real_request else other
    before = emulator_state()

    response = sf.client.post(sf.url("/login"), {"request": rid, "username": username, "password": password})

    after = emulator_state()
    entitled = (
        use_real_request
        and password == DEMO_PASSWORD
        and any(username.lower() == real.lower() for real in ACTIVE_USERS)
    )
    if entitled:
        assert response.status_code == 200 and b"Allow Access?" in response.content
        [changed] = [row for row in after["requests"] if row not in before["requests"]]
        assert changed["pk"] == rid and changed["user_id"] is not None
    else:
        assert response.status_code in (200, 400)
        assert b"Allow Access?" not in response.content
        assert after == before
    assert_no_unescaped_echo(response.content, [username, rid], baseline=login_page)


# --- The token endpoint ---------------------------------------------------------------------------------


LIVE_CODE = "<the live code>"


@pytest.fixture
def live_code(sf: Salesforce) -> str:
    """A live, unused code of a real user: no example may use it up, since none has its verifier."""
    return sf.grant("api@acme.example").code


@given(
    params=token_params,
    code=st.one_of(st.none(), st.just(LIVE_CODE), values),
    authorization=authorization_headers,
)
def test_token_endpoint_with_any_request_refuses_in_oauth_shape_and_changes_nothing(
    sf: Salesforce, live_code: str, params: dict[str, str], code: str | None, authorization: str | None
):
    data = dict(params)
    if code is not None:
        data["code"] = live_code if code == LIVE_CODE else code
    headers = {"Authorization": authorization} if authorization is not None else {}
    before = emulator_state()

    response = sf.client.post(
        sf.url("/services/oauth2/token"),
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "error_description"} and body["error"] in TOKEN_ERRORS
    assert emulator_state() == before
