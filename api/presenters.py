"""Turn model rows into the API's response schemas (no queries: callers fetch what is shown)."""

from __future__ import annotations

from api import schemas
from crm_admin.models import (
    MAX_ACCOUNTS_PER_API_USER,
    Account,
    LinkEvent,
    LinkStatus,
    SalesforceApiUser,
    SalesforceLink,
)


def health_out(link: SalesforceLink) -> schemas.Health:
    attention = link.needs_attention
    return schemas.Health(
        result=link.health or None,
        needs_attention=attention,
        reason=link.attention_reason if attention else None,
        reason_code=(link.attention_code or None) if attention else None,
        attention_since=link.attention_since,
        checked_at=link.health_checked_at,
    )


def account_out(account: Account) -> schemas.AccountRef:
    return schemas.AccountRef(slug=account.slug, name=account.name)


def api_user_out(api_user: SalesforceApiUser, accounts_used: int) -> schemas.ApiUserRef:
    return schemas.ApiUserRef(
        id=api_user.user_id,
        org_id=api_user.org_id,
        username=api_user.username,
        accounts_used=accounts_used,
        accounts_max=MAX_ACCOUNTS_PER_API_USER,
    )


def _link_fields(account: Account, link: SalesforceLink) -> dict[str, object]:
    api_user = link.api_user
    return {
        "account": account_out(account),
        "status": link.status,
        "org_type": link.org_type or None,
        "org_id": link.org_id or None,
        "api_user": api_user_out(api_user, link.api_user_link_count) if api_user else None,
        "legacy_username": link.legacy_username or None,
        "instance_url": link.instance_url or None,
        "linked_at": link.linked_at,
        "linked_by": link.linked_by_username or None,
        "health": health_out(link),
    }


def link_summary_out(link: SalesforceLink) -> schemas.LinkSummary:
    return schemas.LinkSummary(**_link_fields(link.account, link))


def event_out(event: LinkEvent) -> schemas.LinkEvent:
    return schemas.LinkEvent(
        action=event.action,
        label=event.get_action_display(),
        summary=event.summary,
        actor=event.actor.get_username() if event.actor else None,
        at=event.created_at,
    )


def link_detail_out(account: Account, link: SalesforceLink, events: list[LinkEvent]) -> schemas.LinkDetail:
    return schemas.LinkDetail(**_link_fields(account, link), recent_events=[event_out(event) for event in events])


def api_user_detail_out(api_user: SalesforceApiUser, links: list[SalesforceLink]) -> schemas.ApiUserDetail:
    served = [
        schemas.ServedAccount(
            slot=link.slot,
            account=account_out(link.account),
            status=link.status,
            org_type=link.org_type or None,
            linked_at=link.linked_at,
            health=health_out(link),
        )
        for link in links
    ]
    return schemas.ApiUserDetail(
        **api_user_out(api_user, sum(1 for link in links if link.status == LinkStatus.LINKED)).model_dump(),
        accounts=served,
    )
