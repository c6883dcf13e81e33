"""Tokens at rest: MultiFernet encryption and key rotation (checklist E1, E2)."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from crm_admin import crypto
from crm_admin.models import PendingAuthorization, PendingRevoke, RevokeReason, SalesforceToken
from tests.factories import ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db

REFRESH_TOKEN = "5Aep861refresh-token-plaintext-0001"
REVOKE_TOKEN = "5Aep861revoke-token-plaintext-0002"
CODE_VERIFIER = "code-verifier-plaintext-" + "v" * 40

K1 = Fernet.generate_key().decode()
K2 = Fernet.generate_key().decode()


def test_round_trip():
    ciphertext = crypto.encrypt(REFRESH_TOKEN)
    assert ciphertext != REFRESH_TOKEN
    assert crypto.decrypt(ciphertext) == REFRESH_TOKEN
    assert crypto.encrypt(REFRESH_TOKEN) != ciphertext  # a fresh IV every time


def test_the_first_key_encrypts_and_every_key_decrypts(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [K2, K1]
    ciphertext = crypto.encrypt(REFRESH_TOKEN)
    assert Fernet(K2).decrypt(ciphertext.encode()).decode() == REFRESH_TOKEN
    with pytest.raises(InvalidToken):
        Fernet(K1).decrypt(ciphertext.encode())
    assert crypto.decrypt(Fernet(K1).encrypt(b"old").decode()) == "old"


def test_the_database_column_holds_ciphertext_only(account):
    link = make_linked(account, ApiUserFactory(), refresh_token=REFRESH_TOKEN)
    with connection.cursor() as cursor:
        cursor.execute("SELECT refresh_token_encrypted FROM crm_admin_salesforcetoken WHERE id = %s", [link.token_id])
        (stored,) = cursor.fetchone()
    assert stored != REFRESH_TOKEN
    assert REFRESH_TOKEN not in stored
    assert stored.startswith("gAAAAA")
    assert crypto.decrypt(stored) == REFRESH_TOKEN


def test_a_token_under_an_unknown_key_raises_invalid_token():
    foreign = Fernet(Fernet.generate_key()).encrypt(REFRESH_TOKEN.encode()).decode()
    with pytest.raises(InvalidToken):
        crypto.decrypt(foreign)


def _pending_authorization(account, user) -> PendingAuthorization:
    now = timezone.now()
    return PendingAuthorization.objects.create(
        state_hash=uuid.uuid4().hex,
        code_verifier_encrypted=crypto.encrypt(CODE_VERIFIER),
        user=user,
        session_key_hash=uuid.uuid4().hex,
        account=account,
        org_type="production",
        created_at=now,
        expires_at=now + timedelta(minutes=10),
    )


def _stored() -> dict[str, str]:
    token = SalesforceToken.objects.get()
    return {
        "token": token.refresh_token_encrypted,
        "revoke": PendingRevoke.objects.get().token_encrypted,
        "verifier": PendingAuthorization.objects.get().code_verifier_encrypted,
    }


PLAINTEXTS = {"token": REFRESH_TOKEN, "revoke": REVOKE_TOKEN, "verifier": CODE_VERIFIER}


def test_rotation_moves_every_secret_to_the_new_key(settings, account, admin_user):
    settings.TOKEN_ENCRYPTION_KEYS = [K1]
    make_linked(account, ApiUserFactory(), refresh_token=REFRESH_TOKEN)
    PendingRevoke.objects.create(
        token_encrypted=crypto.encrypt(REVOKE_TOKEN), org_type="production", reason=RevokeReason.UNLINK
    )
    _pending_authorization(account, admin_user)
    before = _stored()

    settings.TOKEN_ENCRYPTION_KEYS = [K2, K1]
    assert {name: crypto.decrypt(value) for name, value in before.items()} == PLAINTEXTS
    out = io.StringIO()
    call_command("rotate_token_keys", stdout=out)
    assert "3" in out.getvalue()

    settings.TOKEN_ENCRYPTION_KEYS = [K2]
    after = _stored()
    assert {name: crypto.decrypt(value) for name, value in after.items()} == PLAINTEXTS
    for name, value in after.items():
        with pytest.raises(InvalidToken):
            Fernet(K1).decrypt(value.encode())
        # MultiFernet.rotate keeps the original timestamp.
        assert Fernet(K2).extract_timestamp(value.encode()) == Fernet(K1).extract_timestamp(before[name].encode())


def test_rotation_fails_loudly_when_a_secret_cannot_be_decrypted(settings, account):
    settings.TOKEN_ENCRYPTION_KEYS = [K1]
    link = make_linked(account, ApiUserFactory(), refresh_token=REFRESH_TOKEN)
    stored = SalesforceToken.objects.get(pk=link.token_id).refresh_token_encrypted
    settings.TOKEN_ENCRYPTION_KEYS = [K2]  # the old key was dropped too early
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_token_keys", stdout=io.StringIO())
    assert SalesforceToken.objects.get(pk=link.token_id).refresh_token_encrypted == stored
