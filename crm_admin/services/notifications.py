"""Email an account's admins when its Salesforce link turns "needs attention".

One email per transition: the ``LinkEvent`` that records the transition is claimed by a
``LinkNotification`` row (unique per event) before anything is sent, so a task run twice, or by two
workers, sends once. Sent by the task worker, after the transition's transaction has committed.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from crm_admin.models import RELINK_ONLY_ATTENTION, LinkEvent, LinkNotification
from crm_admin.services.accounts import ADMIN_GROUP

logger = logging.getLogger(__name__)


def link_attention_notify(*, event_id: int) -> int:
    """Email the account's admins what broke and how to fix it; return how many were written to (0 if sent)."""
    event = LinkEvent.objects.select_related("account").get(pk=event_id)
    try:
        with transaction.atomic():
            notification = LinkNotification.objects.create(event=event)
    except IntegrityError:
        logger.info("Attention email for event #%s was already sent", event_id)
        return 0
    account = event.account
    recipients = sorted(
        set(
            account.members.filter(is_active=True, groups__name=ADMIN_GROUP)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )
    if recipients:
        page = settings.SITE_URL + reverse("crm_admin:page", kwargs={"slug": account.slug})
        message = EmailMessage(
            subject=f"Action needed: the Salesforce link of {account.name} no longer works",
            body=_body(event=event, page=page),
            to=recipients,
        )
        try:
            message.send()
        except Exception:
            notification.delete()  # let a retry of the task send it
            raise
    notification.recipients = len(recipients)
    notification.sent_at = timezone.now()
    notification.save(update_fields=["recipients", "sent_at"])
    logger.info("Attention email for account #%s sent to %d admin(s)", account.pk, len(recipients))
    return len(recipients)


def _body(*, event: LinkEvent, page: str) -> str:
    detail = event.detail
    api_user = detail.get("api_username") or "the API user"
    return (
        f"Hello,\n\n"
        f"VCC's link to Salesforce for the account {event.account.name} ({event.account.slug}) stopped working "
        f"on {event.created_at:%d %b %Y at %H:%M} UTC, so VCC's automated actions (call logging, screen pops, "
        f"task creation) cannot reach Salesforce as {api_user}.\n\n"
        f"What broke and how to fix it:\n{detail.get('message', '')}\n\n"
        f"Open CRM Admin to see the link and to relink it:\n{page}\n\n"
        f"{_remedy(detail.get('reason', ''))}\n\n"
        f"— VCC CRM Admin\n"
    )


def _remedy(reason: str) -> str:
    """What mends the link, as the CRM Admin page says it (``SalesforceLink.needs_relink``)."""
    if reason in RELINK_ONLY_ATTENTION:
        return "Only a relink restores it: VCC's access itself is gone, so nothing fixed in Salesforce brings it back."
    return (
        "Once the cause is fixed in Salesforce, the link recovers by itself at the next health check; "
        "or relink, for example with another API user."
    )


@task()
def link_attention_notify_task(event_id: int) -> int:
    """Run ``link_attention_notify`` in the worker."""
    return link_attention_notify(event_id=event_id)
