"""Reading the record: the filtered, tenant-scoped querysets behind the log pages and exports.

Design: every selector takes the tenant first and filters on it before anything else, so each
query starts with the ``tenant`` column the indexes lead with. ``since`` bounds the rows from
below: None means the tenant's visible window (``visible_since``); the grey zone between the
visible window and the purge is reached only by a caller that passes an earlier ``since``
deliberately (and records that access). The streaming exports call these same selectors with the
same parsed filters, so a page and its export list the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, Lookup, OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone

from accounts.models import User
from activity import lifetime
from activity.filters import AuditFilters, DateRange, ExportEventFilters, LoginEventFilters
from activity.models import AuditLogEntry, ExportEvent, LoginEvent, Outcome
from tenants.access import get_for_tenant_or_404
from tenants.models import Invitation, Tenant
from tenants.roles import Role

ACTOR_CHOICES_MAX = 500

# What a list row shows; the raw User-Agent (512 characters) is left for the detail page.
LOGIN_LIST_FIELDS = (
    "id", "tenant_id", "user_id", "attempted_login", "occurred_at", "ip", "country",
    "browser_family", "browser_version", "os_family", "os_version", "device_type", "outcome",
    "reason", "mfa_method", "session_ref", "user__id", "user__email", "user__display_name",
)
EXPORT_LIST_FIELDS = (
    "id", "tenant_id", "user_id", "occurred_at", "dataset", "format", "filters", "row_count",
    "byte_count", "status", "completed_at", "ip", "country", "browser_family", "browser_version",
    "os_family", "os_version", "device_type", "user__id", "user__email", "user__display_name",
)


class InNetwork(Lookup):
    """``ip`` lies inside a CIDR network.

    PostgreSQL stores GenericIPAddressField as ``inet``, whose ``<<=`` a btree index on the
    column answers as a range. SQLite (the embedded default) stores text, so the test runs in
    Python through a function registered on the connection.
    """

    lookup_name = "in_network"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} <<= ({rhs})::inet", [*lhs_params, *rhs_params]
        if connection.vendor == "sqlite":
            _sqlite_register(connection)
            return f"mailadmin_in_network({lhs}, {rhs})", [*lhs_params, *rhs_params]
        raise NotImplementedError(f"CIDR filters are not supported on {connection.vendor}")


def _in_network(address: str | None, network: str | None) -> bool:
    import ipaddress

    if not address or not network:
        return False
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _sqlite_register(connection) -> None:
    # Registering is cheap and idempotent; doing it at use keeps it on every new connection.
    connection.ensure_connection()
    connection.connection.create_function("mailadmin_in_network", 2, _in_network,
                                          deterministic=True)


def visible_since(*, tenant: Tenant, now: datetime | None = None) -> datetime:
    """The oldest instant the default views show for ``tenant`` (now minus the visible days)."""
    return lifetime.visible_since(tenant=tenant, now=now)


@dataclass(frozen=True, slots=True)
class Window:
    """The lower bound a log page or export reads from, and whether it reaches the grey zone.

    ``since`` is the visible window's start, or, with ``grey``, the purge date (the record's
    rows pending deletion included). ``audit_since`` is the same for the audit trail, whose own
    retention (``audit_days``) ends its grey zone.
    """

    rules: lifetime.RetentionRules
    since: datetime
    audit_since: datetime
    visible_since: datetime
    grey: bool

    def deleted_on(self, occurred_at: datetime) -> date:
        return self.rules.deleted_on(occurred_at)

    def audit_deleted_on(self, at: datetime) -> date:
        return (at + timedelta(days=self.rules.audit_days)).astimezone(UTC).date()

    def pending(self, occurred_at: datetime) -> bool:
        """Whether a row is in the grey zone (older than the visible window)."""
        return occurred_at < self.visible_since


def window_get(*, tenant: Tenant, grey: bool = False, now: datetime | None = None) -> Window:
    """The reading window of ``tenant``: the visible days, or with ``grey`` up to the purge.

    The caller decides whether the reader may see the grey zone (Cap.GREY_ZONE_VIEW) and
    records that access (``activity.services.grey_zone_access_record``); one query.
    """
    now = now or timezone.now()
    rules = lifetime.retention_rules(tenant=tenant)
    visible = rules.visible_since(now)
    if not grey:
        return Window(rules=rules, since=visible, audit_since=visible, visible_since=visible,
                      grey=False)
    return Window(rules=rules, since=min(visible, rules.purge_before(now)),
                  audit_since=min(visible, rules.audit_purge_before(now)),
                  visible_since=visible, grey=True)


def _window(queryset: QuerySet, *, field: str, dates: DateRange, since: datetime) -> QuerySet:
    queryset = queryset.filter(**{f"{field}__gte": max(since, dates.starts_at or since)})
    if (ends_before := dates.ends_before) is not None:
        queryset = queryset.filter(**{f"{field}__lt": ends_before})
    return queryset


def login_events_filtered(
    *, tenant: Tenant, filters: LoginEventFilters, since: datetime | None = None
) -> QuerySet[LoginEvent]:
    """The tenant's sign-in events matching ``filters``, newest first, from ``since`` on."""
    events: QuerySet[LoginEvent] = LoginEvent.objects.for_tenant(tenant)
    events = _window(events, field="occurred_at", dates=filters.dates,
                     since=since if since is not None else visible_since(tenant=tenant))
    if filters.person is not None:
        events = events.filter(user_id=filters.person)
    if filters.address:
        events = events.filter(**{
            "attempted_login" if filters.address_exact else "attempted_login__icontains":
            filters.address,
        })
    if filters.ip:
        events = events.filter(ip=filters.ip)
    elif filters.network:
        events = events.filter(InNetwork(F("ip"), Value(filters.network)))
    if filters.country:
        events = events.filter(country=filters.country)
    if filters.outcome:
        events = events.filter(outcome=filters.outcome)
    if filters.protocol:
        events = events.filter(protocol=filters.protocol)
    if filters.reason:
        events = events.filter(reason=filters.reason)
    if filters.browser:
        events = events.filter(browser_family__iexact=filters.browser)
    if filters.os:
        events = events.filter(os_family__iexact=filters.os)
    if filters.device:
        events = events.filter(device_type=filters.device)
    if filters.mfa is not None:
        events = events.filter(mfa_method=filters.mfa)
    return (events.select_related("user").only(*LOGIN_LIST_FIELDS)
            .order_by("-occurred_at", "-id"))


def login_event_get(*, tenant: Tenant, pk: object, since: datetime | None = None) -> LoginEvent:
    """One sign-in event of the tenant's visible window; 404 otherwise (other tenant included)."""
    events = LoginEvent.objects.select_related("user").filter(
        occurred_at__gte=since if since is not None else visible_since(tenant=tenant))
    return get_for_tenant_or_404(events, tenant=tenant, pk=pk)


def export_events_filtered(
    *, tenant: Tenant, filters: ExportEventFilters, since: datetime | None = None
) -> QuerySet[ExportEvent]:
    """The tenant's export events matching ``filters``, newest first, from ``since`` on."""
    exports: QuerySet[ExportEvent] = ExportEvent.objects.for_tenant(tenant)
    exports = _window(exports, field="occurred_at", dates=filters.dates,
                      since=since if since is not None else visible_since(tenant=tenant))
    if filters.person is not None:
        exports = exports.filter(user_id=filters.person)
    if filters.dataset:
        exports = exports.filter(dataset=filters.dataset)
    if filters.file_format:
        exports = exports.filter(format=filters.file_format)
    if filters.status:
        exports = exports.filter(status=filters.status)
    return (exports.select_related("user").only(*EXPORT_LIST_FIELDS)
            .order_by("-occurred_at", "-id"))


def audit_entries_filtered(
    *, tenant: Tenant, filters: AuditFilters, since: datetime | None = None
) -> QuerySet[AuditLogEntry]:
    """The tenant's audit trail matching ``filters``, newest first, from ``since`` on."""
    entries: QuerySet[AuditLogEntry] = AuditLogEntry.objects.for_tenant(tenant)
    entries = _window(entries, field="timestamp", dates=filters.dates,
                      since=since if since is not None else visible_since(tenant=tenant))
    if filters.actor is not None:
        entries = entries.filter(actor_id=filters.actor)
    if filters.person is not None:
        entries = entries.filter(_about_person(tenant, filters.person))
    if filters.object_type:
        app_label, _, model = filters.object_type.partition(".")
        # ContentType's manager caches per process: no query after the first lookup.
        try:
            content_type = ContentType.objects.get_by_natural_key(app_label, model)
        except ContentType.DoesNotExist:
            return entries.none()
        entries = entries.filter(content_type=content_type)
        if filters.object_id:
            entries = entries.filter(object_pk=filters.object_id)
    if filters.action is not None:
        entries = entries.filter(action=filters.action)
    return (entries.select_related("actor", "content_type")
            # additional_data is read: a grey-zone access keeps its client there (small JSON).
            .defer("serialized_data", "actor__password")
            .order_by("-timestamp", "-id"))


def _about_person(tenant: Tenant, pk: int) -> Q:
    """Entries about one person of ``tenant``: their account, and their invitations."""
    people = ContentType.objects.get_for_model(User)
    invitations = ContentType.objects.get_for_model(Invitation)
    invitation_ids = [str(i) for i in Invitation.objects.for_tenant(tenant).filter(user_id=pk)
                      .values_list("pk", flat=True)[:1000]]
    return (Q(content_type=people, object_pk=str(pk))
            | Q(content_type=invitations, object_pk__in=invitation_ids))


def person_label(*, tenant: Tenant, pk: int) -> str | None:
    """How a log page names the person it is filtered to; None for anyone not of ``tenant``."""
    person = (User.objects.for_tenant(tenant).filter(pk=pk)
              .only("id", "email", "display_name").first())
    return str(person) if person is not None else None


def audit_actor_choices(*, tenant: Tenant, include: int | None = None) -> list[tuple[int, str]]:
    """People who can change something audited (every role but member), for the actor filter.

    Members change only their own profile and devices; ``include`` keeps a filtered-on member
    in the list so the form shows what is applied.
    """
    people = User.objects.for_tenant(tenant).filter(
        Q(role__in=[r for r in Role.values if r != Role.MEMBER]) | Q(pk=include or 0)
    ).only("id", "email", "display_name").order_by("email")[:ACTOR_CHOICES_MAX]
    return [(person.pk, f"{person} <{person.email}>" if person.display_name else person.email)
            for person in people]


def login_outcome_counts(*, tenant: Tenant, since: datetime) -> dict[str, int]:
    """Sign-in events per outcome since a moment (the dashboard's last 24 hours); one query."""
    rows = (LoginEvent.objects.for_tenant(tenant).filter(occurred_at__gte=since)
            .values("outcome").annotate(n=Count("id")).order_by())
    counts = {outcome: 0 for outcome in Outcome.values}
    counts.update({row["outcome"]: row["n"] for row in rows})
    return counts


def last_signin_subquery(*, tenant: Tenant, since: datetime | None = None,
                         now: datetime | None = None) -> Subquery:
    """For User querysets: the person's latest successful sign-in within the visible window.

    One LIMIT 1 probe per person on the ``(tenant, user, -occurred_at)`` index; both time bounds
    are constants, so only the window's day partitions are planned. NULL when there is none.
    """
    now = now or timezone.now()
    since = since or visible_since(tenant=tenant, now=now)
    return Subquery(
        LoginEvent.objects.for_tenant(tenant)
        .filter(user=OuterRef("pk"), outcome=Outcome.SUCCESS, occurred_at__gte=since,
                occurred_at__lte=now)
        .order_by("-occurred_at").values("occurred_at")[:1]
    )


def last_signin_by_user(*, tenant: Tenant, user_ids: Iterable[int], since: datetime | None = None,
                        now: datetime | None = None) -> dict[int, datetime]:
    """The latest successful sign-in of each of a page of people, from the record; one query.

    Read from LoginEvent rather than ``User.last_login``, so people whose history was loaded
    (the demo, an import of an older system's log) show it too. People without one are absent.
    """
    ids = list(user_ids)
    if not ids:
        return {}
    rows = (User.objects.for_tenant(tenant).filter(pk__in=ids)
            .annotate(last_signin=last_signin_subquery(tenant=tenant, since=since, now=now))
            .filter(last_signin__isnull=False).values_list("pk", "last_signin"))
    return dict(rows)
