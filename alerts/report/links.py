"""The signed, single-use "This wasn't me" link of a "Was this you?" e-mail.

Design: mail scanners open every link in a message, so the link's GET only shows a confirmation
page and the POST acts. The link is ``django.core.signing`` over (tenant id, link id, nonce) with
its own salt and a 7-day ``max_age``; the nonce is random and stored in ``ReportLink`` with the
expiry and the time it was used. So a changed character fails the signature, a link used once
(or issued for another row) fails the nonce or ``used_at``, and an old one fails both clocks:
each is refused with a clear page and changes nothing.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import User
from alerts.models import Alert
from alerts.preferences import ReportLink

SALT = "alerts.report-link"
VALID_FOR = timedelta(days=7)
TOKEN_MAX_LENGTH = 300


class LinkProblem(enum.StrEnum):
    INVALID = "invalid"   # not a link we issued, or changed
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True, slots=True)
class LinkCheck:
    link: ReportLink | None
    problem: LinkProblem | None


def report_link_issue(*, alert: Alert | None, user: User, event_id: int) -> str:
    """Store a new link for ``user``'s sign-in ``event_id`` and return its signed token."""
    if user.tenant_id is None:
        raise ValueError("operators have no sign-in history to report")
    now = timezone.now()
    # The same notification issued again (a replayed batch) reuses its row: one link per e-mail.
    link = (ReportLink.objects.filter(tenant_id=user.tenant_id, user=user, alert=alert,
                                      event_id=event_id, used_at__isnull=True,
                                      expires_at__gt=now).order_by("pk").first()
            if alert is not None else None)
    if link is None:
        link = ReportLink.objects.create(tenant_id=user.tenant_id, user=user, alert=alert,
                                         event_id=event_id, nonce=secrets.token_urlsafe(24),
                                         created_at=now, expires_at=now + VALID_FOR)
    return signing.dumps([user.tenant_id, link.pk, link.nonce], salt=SALT, compress=False)


def report_links_issue(*, tenant_id: int, wanted: Sequence[tuple[Alert, User, int]]) -> dict[int, str]:
    """``report_link_issue`` for many alerts at once (the detector's batch): each (alert, person,
    sign-in) gets its signed token, by alert id, with one query for the links already issued and
    one INSERT for the rest."""
    if not wanted:
        return {}
    if any(user.tenant_id != tenant_id or alert.tenant_id != tenant_id for alert, user, _ in wanted):
        raise ValueError("every link belongs to the tenant of the batch")
    now = timezone.now()
    existing: dict[tuple[int, int, int], ReportLink] = {}
    for issued in (ReportLink.objects.filter(tenant_id=tenant_id, alert_id__in=[a.pk for a, _, _ in wanted],
                                             used_at__isnull=True, expires_at__gt=now)
                   .order_by("-pk")):
        existing[(issued.alert_id or 0, issued.user_id, issued.event_id)] = issued  # the oldest wins
    links: dict[int, ReportLink] = {}
    new: list[ReportLink] = []
    for alert, user, event_id in wanted:
        link = existing.get((alert.pk, user.pk, event_id))
        if link is None:
            link = ReportLink(tenant_id=tenant_id, user=user, alert=alert, event_id=event_id,
                              nonce=secrets.token_urlsafe(24), created_at=now,
                              expires_at=now + VALID_FOR)
            new.append(link)
        links[alert.pk] = link
    if new:
        ReportLink.objects.filter(tenant_id=tenant_id).bulk_create(new)  # rows built above, this tenant
    return {alert_id: signing.dumps([tenant_id, link.pk, link.nonce], salt=SALT, compress=False)
            for alert_id, link in links.items()}


def report_link_check(token: str, *, for_update: bool = False) -> LinkCheck:
    """What ``token`` names, or why it cannot be used. Never raises on bad input."""
    if not isinstance(token, str) or not token.isascii() or len(token) > TOKEN_MAX_LENGTH:
        return LinkCheck(None, LinkProblem.INVALID)
    try:
        tenant_id, link_id, nonce = signing.loads(token, salt=SALT,
                                                  max_age=VALID_FOR)
    except signing.SignatureExpired:
        return LinkCheck(None, LinkProblem.EXPIRED)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return LinkCheck(None, LinkProblem.INVALID)
    if not (isinstance(tenant_id, int) and isinstance(link_id, int) and isinstance(nonce, str)):
        return LinkCheck(None, LinkProblem.INVALID)
    links = ReportLink.objects.filter(tenant_id=tenant_id, pk=link_id).select_related(
        "user", "user__tenant")
    if for_update:
        links = links.select_for_update(of=("self",))
    link = links.first()
    if link is None or not constant_time_compare(link.nonce, nonce):
        return LinkCheck(None, LinkProblem.INVALID)
    if link.used_at is not None:
        return LinkCheck(link, LinkProblem.USED)
    if link.expires_at <= timezone.now():
        return LinkCheck(link, LinkProblem.EXPIRED)
    return LinkCheck(link, None)
