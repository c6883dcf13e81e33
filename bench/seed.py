"""Seed a benchmark database with N VCC accounts in bulk: ``python -m bench.seed --accounts N --out FILE``.

Run with ``DJANGO_SETTINGS_MODULE=bench.settings`` on a migrated, empty PostgreSQL database. The shape:

- about 60 % Linked, spread over API users holding one to five links each (slots 1…n), 10 % Legacy,
  the rest Unlinked; 5 % of the Linked ones need attention (reason, code, ``health="attention"``),
  most others carry a recent healthy result;
- an account admin per account (the one who linked it) and a few ``LinkEvent`` rows per account;
- tokens encrypted with the configured keys (``crm_admin.crypto``), the access token a recent health
  check cached, its next check one interval after the last, and the health transitions in the audit
  trail; listing columns filled by the project's own helpers (``crm_admin.services.listing``), so the
  data is what the services would have written;
- the benchmark's own users, made through the services: ``bench.admin`` (three accounts: a Linked one whose
  API user holds five links, a Legacy one and one needing attention, plus an attempt waiting for
  Salesforce), ``bench.support``, and a service API key per scope.

Rows are written with PostgreSQL ``COPY`` from model instances (``_copy``), with explicit primary keys, then
the sequences are reset and the tables analysed. Everything a later issue adds to the data belongs in
``Seeder`` as one more method. Prints the fixture (JSON) that the load generator and probe use.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import django

BENCH_PASSWORD = "Vcc-Bench-Pass-1"
ADMIN_USERNAME = "bench.admin"
SUPPORT_USERNAME = "bench.support"
LINKED_SHARE, LEGACY_SHARE = 0.60, 0.10
#: Of the Linked links.
ATTENTION_SHARE = 0.05
ACCOUNTS_PER_ADMIN = 5
#: Salesforce's default session timeout: how long an access token lives.
ACCESS_TOKEN_LIFETIME = timedelta(hours=2)
SEEDED_TABLES = (
    "auth_user",
    "auth_user_groups",
    "crm_admin_account",
    "crm_admin_account_members",
    "crm_admin_salesforceapiuser",
    "crm_admin_salesforcetoken",
    "crm_admin_salesforcelink",
    "crm_admin_linkevent",
)
NAME_WORDS = [
    "Acme",
    "Apex",
    "Atlas",
    "Beacon",
    "Blue",
    "Bright",
    "Cedar",
    "Civic",
    "Coastal",
    "Crest",
    "Delta",
    "Eagle",
    "Echo",
    "Ember",
    "Falcon",
    "Fjord",
    "Garnet",
    "Granite",
    "Harbor",
    "Helix",
    "Horizon",
    "Indigo",
    "Iron",
    "Juniper",
    "Keystone",
    "Lakeside",
    "Lumen",
    "Maple",
    "Meridian",
    "Metro",
    "Nimbus",
    "North",
    "Oak",
    "Orbit",
    "Pacific",
    "Peak",
    "Pine",
    "Pioneer",
    "Prairie",
    "Quartz",
    "Radiant",
    "Redwood",
    "Ridge",
    "River",
    "Sable",
    "Sierra",
    "Silver",
    "Summit",
    "Sun",
    "Terra",
    "Titan",
    "Union",
    "Valley",
    "Vertex",
    "Vista",
    "Willow",
    "Zenith",
]
#: In about 3 % of account names (two words of ``NAME_WORDS`` each).
SEARCH_WORD = "Harbor"
NAME_KINDS = [
    "Contact Center",
    "Support Desk",
    "Care",
    "Service Hub",
    "Sales Line",
    "Help Desk",
    "Customer Care",
    "Operations",
]


@dataclass
class Fixture:
    """What the load generator and the probe need to know about the seeded data."""

    accounts: int
    admin_username: str
    support_username: str
    password: str
    #: The CRM Admin page measured: Linked, its API user holding five links.
    admin_slug: str
    #: A Linked account for the status API and the access-token endpoint.
    linked_slug: str
    #: The opener page's handle of ``bench.admin``'s attempt waiting for Salesforce.
    attempt_ref: str
    #: A word of account names: the console's free-text search.
    search_text: str
    api_user_org_id: str
    api_user_user_id: str
    #: Service API keys by scope ("read", "token").
    keys: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def access_token(org_id: str) -> str:
    """An access token shaped like Salesforce's: the 15-character org id, "!", a random session id."""
    return f"{org_id[:15]}!{secrets.token_urlsafe(60)}"


def salesforce_id(prefix: str, n: int) -> str:
    """A valid 18-character Salesforce id with the given key prefix."""
    from crm_admin.salesforce import ids

    return ids.to_18(f"{prefix}{n:012d}")


class Seeder:
    """Builds the rows in memory, deterministic for a given size, and writes them with COPY."""

    def __init__(self, accounts: int) -> None:
        from django.utils import timezone

        self.size = accounts
        self.rng = random.Random(accounts)
        self.now = timezone.now()
        self.seconds: dict[str, float] = {}
        self.rows: dict[str, int] = {}

    def run(self) -> Fixture:
        from django.db import transaction

        with transaction.atomic():
            indexes = self._timed("drop indexes", self.indexes_drop)
            self._timed("portal users", self.portal_users)
            self._timed("accounts and links", self.accounts_and_links)
            self._timed("link events", self.link_events)
            self._timed("sequences", self.reset_sequences)
            self._timed("statistics", self.statistics)
            self._timed("listing counts", self.listing_counts)
            self._timed("create indexes", lambda: self.indexes_create(indexes))
        fixture = self._timed("bench users", self.bench_users)  # services run their own (durable) transactions
        fixture.keys = self._timed("service keys", self.service_keys)
        self._timed("analyse", self.analyse)
        fixture.seconds, fixture.rows = self.seconds, self.rows
        return fixture

    def _timed(self, label: str, step):
        started = time.perf_counter()
        result = step()
        self.seconds[label] = round(time.perf_counter() - started, 2)
        return result

    # --- Steps ----------------------------------------------------------------------------------------

    def portal_users(self) -> None:
        """One account admin per ``ACCOUNTS_PER_ADMIN`` accounts, in the Account admin role, unusable password."""
        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import make_password

        from crm_admin.services.accounts import roles_ensure

        user_model = get_user_model()
        self.admin_count = max(1, self.size // ACCOUNTS_PER_ADMIN)
        self.admin_ids = list(range(1, self.admin_count + 1))
        unusable = make_password(None)
        users = [
            user_model(pk=pk, username=f"admin-{pk:06d}", password=unusable, date_joined=self.now - timedelta(days=400))
            for pk in self.admin_ids
        ]
        self._copy(user_model, users)
        group = roles_ensure()["admin"]
        through = user_model.groups.through
        self._copy(through, [through(pk=pk, user_id=pk, group_id=group.pk) for pk in self.admin_ids])

    def accounts_and_links(self) -> None:
        """Accounts, their members, links in every state, API users, and the tokens Linked links hold."""
        from django.conf import settings

        from crm_admin import crypto
        from crm_admin.models import (
            Account,
            LinkHealth,
            LinkStatus,
            OrgType,
            SalesforceApiUser,
            SalesforceLink,
            SalesforceToken,
        )
        from crm_admin.services.health import REVOKED_REASON
        from crm_admin.services.listing import link_search_text

        rng, size = self.rng, self.size
        ids = list(range(1, size + 1))
        rng.shuffle(ids)
        linked_ids = ids[: round(size * LINKED_SHARE)]
        legacy_ids = set(ids[len(linked_ids) : len(linked_ids) + round(size * LEGACY_SHARE)])
        self.linked_ids = linked_ids
        self.legacy_ids = legacy_ids

        accounts = [
            Account(
                pk=pk,
                slug=f"acct-{pk:06d}",
                name=f"{rng.choice(NAME_WORDS)} {rng.choice(NAME_WORDS)} {rng.choice(NAME_KINDS)} {pk}",
                created_at=self.now - timedelta(days=rng.randint(30, 900)),
            )
            for pk in range(1, size + 1)
        ]
        self.accounts = {account.pk: account for account in accounts}
        self._copy(Account, accounts)
        through = Account.members.through
        self.admin_of = {pk: self.admin_ids[(pk - 1) // ACCOUNTS_PER_ADMIN] for pk in range(1, size + 1)}
        self._copy(through, [through(pk=pk, account_id=pk, user_id=self.admin_of[pk]) for pk in range(1, size + 1)])

        # API users: the Linked accounts in groups of one to five, two API users per org on average.
        api_users: list[SalesforceApiUser] = []
        self.api_user_of: dict[int, SalesforceApiUser] = {}
        self.slot_of: dict[int, int] = {}
        position = 0
        while position < len(linked_ids):
            group = linked_ids[position : position + rng.choice((1, 2, 3, 4, 5, 5, 5))]
            position += len(group)
            pk = len(api_users) + 1
            org = (pk + 1) // 2
            api_user = SalesforceApiUser(
                pk=pk,
                org_id=salesforce_id("00D", org),
                user_id=salesforce_id("005", pk),
                username=f"integration{pk}@org{org}.example",
                created_at=self.now - timedelta(days=500),
                updated_at=self.now - timedelta(days=500),
            )
            api_users.append(api_user)
            for slot, account_id in enumerate(group, start=1):
                self.api_user_of[account_id] = api_user
                self.slot_of[account_id] = slot
        self._copy(SalesforceApiUser, api_users)
        self.api_users = api_users

        tokens, links = [], []
        attention = set(rng.sample(linked_ids, round(len(linked_ids) * ATTENTION_SHARE)))
        self.attention_ids = attention
        for pk in range(1, size + 1):
            account = self.accounts[pk]
            link = SalesforceLink(pk=pk, account_id=pk, updated_at=self.now)
            if pk in self.api_user_of:
                api_user = self.api_user_of[pk]
                token = SalesforceToken(
                    pk=len(tokens) + 1,
                    refresh_token_encrypted=crypto.encrypt("5Aep861" + secrets.token_urlsafe(60)),
                    scope="api refresh_token id",
                    issued_at=self.now - timedelta(days=rng.randint(1, 700)),
                    created_at=self.now,
                )
                tokens.append(token)
                link.status = LinkStatus.LINKED
                link.org_type = OrgType.SANDBOX if rng.random() < 0.15 else OrgType.PRODUCTION
                link.api_user_id = api_user.pk
                link.slot = self.slot_of[pk]
                link.api_username = api_user.username
                link.instance_url = f"https://org{(api_user.pk + 1) // 2}.my.salesforce.com"
                link.link_key = secrets.token_hex(32)
                link.token_id = token.pk
                link.linked_at = token.issued_at
                link.linked_by_id = self.admin_of[pk]
                link.linked_by_username = f"admin-{self.admin_of[pk]:06d}"
                link.org_id = api_user.org_id
                checked = self.now - timedelta(minutes=rng.randint(1, 360))
                if pk in attention:
                    link.health = LinkHealth.ATTENTION
                    link.health_checked_at = checked
                    link.attention_reason = REVOKED_REASON
                    link.attention_code = "grant_revoked"
                    link.attention_since = checked - timedelta(days=rng.randint(0, 20))
                elif rng.random() < 0.9:
                    link.health = LinkHealth.HEALTHY
                    link.health_checked_at = checked
                    # The check's refresh left its access token cached (crm_admin.services.grants).
                    token.refreshed_at = checked
                    token.access_token_encrypted = crypto.encrypt(access_token(api_user.org_id))
                    token.access_token_expires_at = checked + ACCESS_TOKEN_LIFETIME
                if link.health_checked_at is not None:
                    link.next_check_at = link.health_checked_at + settings.HEALTH_CHECK_INTERVAL
            elif pk in legacy_ids:
                link.status = LinkStatus.LEGACY
                link.org_type = OrgType.PRODUCTION
                link.legacy_username = f"integration@{account.slug}.legacy.example"
                if rng.random() < 0.5:
                    link.org_id = salesforce_id("00D", 1_000_000 + pk)
            link.search_text = link_search_text(account=account, link=link)
            links.append(link)
        self._copy(SalesforceToken, tokens)
        self._copy(SalesforceLink, links)
        self.links = {link.pk: link for link in links}

    def link_events(self) -> None:
        """A few audit rows per account, oldest first, shaped like the services' own."""
        from crm_admin.models import LinkEvent, LinkEventAction, LinkHealth, LinkStatus

        events: list[LinkEvent] = []

        def add(account_id: int, action: str, when: datetime, detail: dict, actor: bool = True) -> None:
            events.append(
                LinkEvent(
                    pk=len(events) + 1,
                    account_id=account_id,
                    actor_id=self.admin_of[account_id] if actor else None,
                    action=action,
                    detail=detail,
                    created_at=when,
                )
            )

        for pk, link in self.links.items():
            started = self.now - timedelta(days=800)
            if link.status == LinkStatus.LINKED:
                api_user = self.api_user_of[pk]
                identity = {
                    "org_type": link.org_type,
                    "org_id": api_user.org_id,
                    "user_id": api_user.user_id,
                    "api_username": api_user.username,
                }
                if self.rng.random() < 0.2:
                    add(pk, LinkEventAction.REFUSED, started, {"reason": "missing_permissions", **identity})
                if self.rng.random() < 0.5:
                    add(pk, LinkEventAction.LINKED, started + timedelta(days=1), {**identity, "slot": link.slot})
                    action, previous = LinkEventAction.RELINKED, LinkStatus.LINKED
                else:
                    action, previous = LinkEventAction.LINKED, LinkStatus.UNLINKED
                add(pk, action, link.linked_at, {**identity, "previous_status": previous, "slot": link.slot})
                # Health transitions, as crm_admin.services.health audits them: the first check, then a revocation.
                health = {"api_username": api_user.username, "org_type": link.org_type}
                if link.health_checked_at is not None:
                    first_check = link.linked_at + timedelta(hours=1)
                    detail = {**health, "health": LinkHealth.HEALTHY, "previous_health": ""}
                    add(pk, LinkEventAction.HEALTHY, first_check, detail, actor=False)
                if link.attention_since is not None:
                    detail = {
                        **health,
                        "health": LinkHealth.ATTENTION,
                        "previous_health": LinkHealth.HEALTHY,
                        "reason": link.attention_code,
                        "message": link.attention_reason,
                    }
                    add(pk, LinkEventAction.REVOKED_BY_SALESFORCE, link.attention_since, detail, actor=False)
            elif link.status == LinkStatus.LEGACY:
                detail = {"legacy_username": link.legacy_username, "org_type": link.org_type}
                add(pk, LinkEventAction.LEGACY_SET, started, detail, actor=False)
            elif self.rng.random() < 0.5:
                detail = {"org_type": "production", "api_username": f"former@{pk}.example"}
                add(pk, LinkEventAction.LINKED, started, {**detail, "previous_status": LinkStatus.UNLINKED})
                add(
                    pk,
                    LinkEventAction.UNLINKED,
                    started + timedelta(days=90),
                    {**detail, "previous_status": LinkStatus.LINKED},
                )
        self._copy(LinkEvent, events)

    def indexes_drop(self) -> list[str]:
        """Drop the seeded tables' secondary indexes (a bulk load then builds each once); return their DDL.

        Indexes that back a constraint (primary keys, unique fields) stay, so the load is still checked.
        """
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                [list(SEEDED_TABLES)],
            )
            indexes = cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        return [definition for _, definition in indexes]

    def indexes_create(self, definitions: list[str]) -> None:
        """Build the dropped indexes again, once the foreign keys of the load have been checked."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # run the queued foreign key checks first
            for definition in definitions:
                cursor.execute(definition)

    def reset_sequences(self) -> None:
        """Point every sequence past the explicit primary keys written above."""
        from django.apps import apps
        from django.core.management.color import no_style
        from django.db import connection

        models = [model for app in ("auth", "crm_admin") for model in apps.get_app_config(app).get_models()]
        models += [m2m.remote_field.through for model in models for m2m in model._meta.local_many_to_many]
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)

    def statistics(self) -> None:
        """Give the planner statistics on the new rows, so the listing update below uses the constraints' indexes."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def listing_counts(self) -> None:
        """Fill each link's "n of 5" with the services' own helper."""
        from crm_admin.services.listing import api_user_link_counts_refresh

        api_user_link_counts_refresh(api_user_ids=[api_user.pk for api_user in self.api_users])

    def bench_users(self) -> Fixture:
        """The measured admin and support users, through the services, and an attempt in progress."""
        from django.utils import timezone

        from crm_admin import crypto
        from crm_admin.models import LinkStatus, SalesforceLink, SalesforceToken
        from crm_admin.services import links as link_services
        from crm_admin.services.accounts import portal_user_create

        full = next(
            link
            for link in SalesforceLink.objects.filter(
                status=LinkStatus.LINKED, api_user_link_count=5, attention_since__isnull=True
            ).order_by("pk")
        )
        legacy = SalesforceLink.objects.filter(status=LinkStatus.LEGACY).order_by("pk").first()
        attention = SalesforceLink.objects.filter(attention_since__isnull=False).order_by("pk").first()
        slugs = [link.account.slug for link in (full, legacy, attention) if link is not None]
        admin = portal_user_create(
            username=ADMIN_USERNAME, role="admin", password=BENCH_PASSWORD, account_slugs=list(dict.fromkeys(slugs))
        )
        portal_user_create(username=SUPPORT_USERNAME, role="support", password=BENCH_PASSWORD)
        attempt_ref = uuid.uuid4()
        link_services.link_start(
            user=admin, account=full.account, org_type="production", session_key="bench", client_ref=attempt_ref
        )
        other = (
            SalesforceLink.objects.filter(status=LinkStatus.LINKED, attention_since__isnull=True)
            .exclude(pk=full.pk)
            .order_by("pk")
            .first()
        )
        # Its access token was just refreshed: the access-token endpoint answers from the cache.
        SalesforceToken.objects.filter(pk=other.token_id).update(
            access_token_encrypted=crypto.encrypt(access_token(other.org_id)),
            access_token_expires_at=timezone.now() + ACCESS_TOKEN_LIFETIME,
            refreshed_at=timezone.now(),
        )
        self.rows.update(
            accounts=self.size,
            linked=len(self.linked_ids),
            legacy=len(self.legacy_ids),
            needing_attention=len(self.attention_ids),
            api_users=len(self.api_users),
        )
        return Fixture(
            accounts=self.size,
            admin_username=ADMIN_USERNAME,
            support_username=SUPPORT_USERNAME,
            password=BENCH_PASSWORD,
            admin_slug=full.account.slug,
            linked_slug=other.account.slug,
            attempt_ref=str(attempt_ref),
            search_text=SEARCH_WORD.lower(),
            api_user_org_id=full.api_user.org_id,
            api_user_user_id=full.api_user.user_id,
        )

    def service_keys(self) -> dict[str, str]:
        """One service API key per scope, made by the API's own service; return the raw keys by scope."""
        from api.models import ApiScope
        from api.services import api_key_create

        return {scope: api_key_create(name=f"bench-{scope}", scopes=[scope]).raw_key for scope in ApiScope.values}

    def analyse(self) -> None:
        """Refresh the planner's statistics and the visibility map, as autovacuum would in a live system."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    # --- Writing --------------------------------------------------------------------------------------

    def _copy(self, model, objects: Sequence) -> None:
        """Write model instances with COPY: every concrete column, in the form the model's fields store."""
        from django.db import connection
        from django.db.models import JSONField

        fields = list(model._meta.concrete_fields)
        # psycopg adapts ints, strings, booleans, UUIDs and aware datetimes itself; JSON needs the field.
        json_fields = {f.attname for f in fields if isinstance(f, JSONField)}
        auto_fields = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                for auto_field in auto_fields:
                    if getattr(obj, auto_field.attname) is None:
                        auto_field.pre_save(obj, add=True)
                copy.write_row(
                    [
                        model_field.get_db_prep_save(getattr(obj, model_field.attname), connection)
                        if model_field.attname in json_fields
                        else getattr(obj, model_field.attname)
                        for model_field in fields
                    ]
                )
        self.rows[model._meta.db_table] = self.rows.get(model._meta.db_table, 0) + len(objects)


def main(argv: Iterable[str] | None = None) -> None:
    """Seed the database named by ``DATABASE_URL`` and write the fixture to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(list(argv) if argv is not None else None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("The benchmark seeds PostgreSQL only (COPY); set DATABASE_URL to a postgres:// URL.")
    started = time.perf_counter()
    fixture = Seeder(args.accounts).run()
    fixture.seconds["total"] = round(time.perf_counter() - started, 2)
    args.out.write_text(json.dumps(asdict(fixture), indent=2))


if __name__ == "__main__":
    main()
