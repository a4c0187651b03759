"""What the retention pages and the dashboard read beyond ``retention.selectors``.

``signins_daily`` is the dashboard's narrow cut of ``activity_totals``: one metric (sign-in events
by outcome) over a few days in two queries, where the full totals cost ten. It reads the same
sources the same way: ``DailyActivity`` for days the sweep rolled up (``RolledUpDay``), and for
the other days the live record grouped exactly as ``retention.rollup`` groups it (every event of
the UTC day by outcome), so its numbers equal the Reports page's.
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import TruncDate

from accounts.models import User
from activity.models import LoginEvent
from activity.partitions import day_bounds
from retention.models import DailyActivity, Metric, RolledUpDay
from retention.selectors import Totals
from tenants.models import Tenant


def signins_daily(*, tenant: Tenant, since: dt.date, until: dt.date) -> Totals:
    """Sign-in events per UTC day and outcome over [since, until], as ``activity_totals`` counts
    them (metric ``signins.outcome`` only); two queries."""
    if since > until:
        since, until = until, since
    rolled_days = RolledUpDay.objects.for_tenant(tenant).filter(day=OuterRef("day"))
    by_day: dict[dt.date, dict[str, dict[str, int]]] = {}
    stored = (DailyActivity.objects.for_tenant(tenant)
              .filter(metric=Metric.SIGNINS_BY_OUTCOME, day__gte=since, day__lte=until)
              .filter(Exists(rolled_days))
              .values_list("day", "key", "count"))
    rolled: set[dt.date] = set()
    for day, key, count in stored:
        rolled.add(day)
        by_day.setdefault(day, {}).setdefault(Metric.SIGNINS_BY_OUTCOME, {})[key] = int(count)
    live = (LoginEvent.objects.for_tenant(tenant)
            .filter(occurred_at__gte=day_bounds(since)[0], occurred_at__lt=day_bounds(until)[1])
            .annotate(day=TruncDate("occurred_at", tzinfo=dt.UTC))
            .filter(~Exists(rolled_days))
            .order_by().values("day", "outcome").annotate(n=Count("id")))
    for row in live:
        if row["n"]:
            slot = by_day.setdefault(row["day"], {}).setdefault(Metric.SIGNINS_BY_OUTCOME, {})
            slot[row["outcome"]] = slot.get(row["outcome"], 0) + int(row["n"])
    return Totals(since=since, until=until,
                  by_day=MappingProxyType({day: MappingProxyType(m) for day, m in by_day.items()}),
                  rolled_up_days=frozenset(rolled))


def hold_people(*, tenant: Tenant) -> QuerySet[User]:
    """The people a legal hold may name: the tenant's own, everyone but operators."""
    return (User.objects.for_tenant(tenant).only("id", "email", "display_name", "status")
            .order_by("email"))
