"""Reading retention: the purge preview, holds, receipts and the activity totals reports show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from activity.lifetime import RetentionRules
from retention import due, registry
from retention.models import DailyActivity, LegalHold, Metric, RolledUpDay, SweepReceipt
from retention.rollup import activity_counts
from tenants.models import Tenant

# Labels of the tables a receipt and a preview count rows of.
PURGED_TABLES: Mapping[str, Promise] = MappingProxyType({
    due.LOGIN_TABLE: _("Sign-in events"),
    due.EXPORT_TABLE: _("Export events"),
    due.SESSION_TABLE: _("Stored sessions"),
    due.INVITATION_TABLE: _("Expired invitations"),
    due.RESET_TABLE: _("Password reset links"),
    due.MAIL_CLIENT_TABLE: _("Revoked client-specific passwords"),
    "axes_accessattempt": _("Failed sign-in counters"),
    "axes_accesslog": _("Lockout access log"),
    "axes_accessfailurelog": _("Lockout failure log"),
    due.OUTBOX_TABLE: _("Delivered e-mails"),
    due.WEBHOOK_TABLE: _("Delivered webhook events"),
    due.AUDIT_TABLE: _("Audit entries"),
    due.EVIDENCE_TABLE: _("Alert evidence (IP address and browser string blanked)"),
    due.DJANGO_SESSION_TABLE: _("Expired sessions"),
    due.RESET_THROTTLE_TABLE: _("Password reset requests (rate limit)"),
})


def table_label(table: str) -> str:
    """The translated name of a table a receipt or a preview counts rows of (its own name if
    none is known)."""
    label = PURGED_TABLES.get(table)
    if label is None:
        entry = registry.purged_table(table)
        label = entry.label if entry is not None else None
    return str(label) if label is not None else table


@dataclass(frozen=True, slots=True)
class PurgePreview:
    """What the next sweep would remove from one tenant under some rules."""

    rows: Mapping[str, int]  # table -> rows due and not held
    held: Mapping[str, int]  # table -> rows due but kept by legal holds
    purge_before: dt.date  # days strictly before this UTC day are purged
    audit_purge_before: dt.date

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def total_held(self) -> int:
        return sum(self.held.values())

    def labelled(self) -> list[tuple[str, int]]:
        """(translated table label, rows) in display order, tables with nothing left out."""
        return [(table_label(table), count)
                for table, count in self.rows.items() if count]


def purge_preview(*, tenant: Tenant, rules: RetentionRules, now: dt.datetime | None = None) -> PurgePreview:
    """How many rows a sweep at ``now`` would remove under ``rules`` (the saved ones or a draft)."""
    now = now or timezone.now()
    holds = due.holds_in_force(tenant=tenant, now=now)
    rows: dict[str, int] = {}
    held: dict[str, int] = {}
    querysets = due.due_querysets(tenant=tenant, rules=rules, now=now, holds=holds)
    querysets[due.EVIDENCE_TABLE] = due.evidence_to_blank(tenant=tenant, rules=rules, now=now,
                                                          holds=holds)
    for table, (delete, keep) in querysets.items():
        rows[table] = delete.count()
        held[table] = keep.count() if holds.any else 0
    return PurgePreview(rows=MappingProxyType(rows), held=MappingProxyType(held),
                        purge_before=due.purge_day(rules, now),
                        audit_purge_before=due.audit_cutoff(rules, now).date())


def legal_holds_list(*, tenant: Tenant, include_lifted: bool = False) -> QuerySet[LegalHold]:
    """The tenant's holds, newest first; lifted ones (by hand or by expiry) only when asked."""
    holds = LegalHold.objects.for_tenant(tenant).select_related("person", "placed_by", "lifted_by")
    if not include_lifted:
        holds = holds.filter(lifted_at__isnull=True)
    return holds.order_by("-placed_at", "-id")


def legal_hold_get(*, tenant: Tenant, pk: int) -> LegalHold | None:
    return legal_holds_list(tenant=tenant, include_lifted=True).filter(pk=pk).first()


def sweep_receipts_list(*, tenant: Tenant, limit: int = 10) -> list[SweepReceipt]:
    """The tenant's receipts of real (not dry) runs, newest first."""
    return list(SweepReceipt.objects.for_tenant(tenant).filter(run__dry_run=False)
                .select_related("run").order_by("-created_at", "-id")[:limit])


def last_receipt(*, tenant: Tenant) -> SweepReceipt | None:
    receipts = sweep_receipts_list(tenant=tenant, limit=1)
    return receipts[0] if receipts else None


@dataclass(frozen=True)
class Totals:
    """Daily counts of one tenant over [since, until]: rolled-up days and live days alike."""

    since: dt.date
    until: dt.date
    # day -> metric -> key -> count (days with nothing are absent)
    by_day: Mapping[dt.date, Mapping[str, Mapping[str, int]]]
    rolled_up_days: frozenset[dt.date] = field(default_factory=frozenset)

    @property
    def days(self) -> list[dt.date]:
        """Every day of the range, oldest first, including days with no activity."""
        return [self.since + dt.timedelta(days=n) for n in range((self.until - self.since).days + 1)]

    def day(self, day: dt.date, metric: str) -> dict[str, int]:
        """Key -> count of one metric on one day."""
        return dict(self.by_day.get(day, {}).get(metric, {}))

    def count(self, day: dt.date, metric: str, key: str = "") -> int:
        return self.by_day.get(day, {}).get(metric, {}).get(key, 0)

    def day_total(self, day: dt.date, metric: str) -> int:
        return sum(self.by_day.get(day, {}).get(metric, {}).values())

    def total(self, metric: str) -> dict[str, int]:
        """Key -> count of one metric over the whole range, largest first.

        For ``signins.people`` this adds each day's distinct people (person-days).
        """
        summed: dict[str, int] = {}
        for metrics in self.by_day.values():
            for key, count in metrics.get(metric, {}).items():
                summed[key] = summed.get(key, 0) + count
        return dict(sorted(summed.items(), key=lambda item: (-item[1], item[0])))

    def grand_total(self, metric: str) -> int:
        return sum(self.total(metric).values())

    def series(self, metric: str, key: str | None = None) -> list[tuple[dt.date, int]]:
        """(day, count) for every day of the range: one key, or the metric's day total."""
        return [(day, self.day_total(day, metric) if key is None else self.count(day, metric, key))
                for day in self.days]

    def keys(self, metric: str) -> list[str]:
        return list(self.total(metric))


def activity_totals(*, tenant: Tenant, since: dt.date, until: dt.date) -> Totals:
    """What reports show for [since, until] (UTC days): rolled-up counts where a day was rolled
    up, the live record elsewhere, computed the same way (``retention.rollup``)."""
    if since > until:
        since, until = until, since
    rolled = set(RolledUpDay.objects.for_tenant(tenant).filter(day__gte=since, day__lte=until)
                 .values_list("day", flat=True))
    by_day: dict[dt.date, dict[str, dict[str, int]]] = {}
    if rolled:
        for day, counts in (DailyActivity.objects.for_tenant(tenant).filter(day__in=rolled)
                            .values_list("day", "counts")):
            by_day[day] = {metric: {key: int(count) for key, count in keys.items()}
                           for metric, keys in counts.items()}
    live_days = [since + dt.timedelta(days=n) for n in range((until - since).days + 1)]
    live_days = [day for day in live_days if day not in rolled]
    if live_days:
        live = activity_counts(tenant_ids=[tenant.pk], since=live_days[0], until=live_days[-1])
        for (_tenant_id, day), metrics in live.items():
            if day not in rolled:
                by_day[day] = metrics
    return Totals(since=since, until=until,
                  by_day=MappingProxyType({day: MappingProxyType(m) for day, m in by_day.items()}),
                  rolled_up_days=frozenset(rolled))


__all__ = ["PURGED_TABLES", "Metric", "PurgePreview", "Totals", "activity_totals", "last_receipt",
           "legal_hold_get", "legal_holds_list", "purge_preview", "sweep_receipts_list", "table_label"]
