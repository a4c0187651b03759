"""Reading the people list: filters, sort orders, keyset pages, and each row's security facts.

Design: the page's query reads only people (a tenant-scoped User queryset, filtered, with its sort
key annotated); what each row shows beyond the person — two-step methods, last sign-in, lockout,
open alerts, an expired password — is then read for that page's ids alone, one query per fact, by
the selectors of the apps that own the facts. A page of a 3,000-person tenant costs what a page of
a 30-person one does. Only when the list is sorted by such a fact is it computed for every
matching person, inside the page's one query (a subquery per person, each a LIMITed index probe).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from django.db.models import (
    Case,
    CharField,
    Exists,
    Expression,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower, NullIf
from django.utils import timezone

from accounts.mfa.selectors import mfa_methods_by_user, mfa_second_factor_exists
from accounts.models import User
from activity.selectors import last_signin_by_user, last_signin_subquery, visible_since
from alerts.selectors import open_alert_total_subquery, open_alert_totals_by_user
from people.directory.keyset import SORT_KEY, Cursor, Page, page_fetch
from security.policies.password.selectors import password_expired_exists
from security.signin.lockout import locked_accounts_list
from tenants.models import Tenant
from tenants.roles import Role

PAGE_SIZE = 50
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # sorts people who never signed in before everyone


class Sort(StrEnum):
    NAME = "name"
    EMAIL = "email"
    ROLE = "role"
    STATUS = "status"
    MFA = "mfa"
    LAST_SIGNIN = "last_signin"
    LOCKED = "locked"
    ALERTS = "alerts"


@dataclass(frozen=True, slots=True)
class DirectoryFilters:
    query: str = ""
    role: str = ""
    status: str = ""
    no_mfa: bool = False
    locked: bool = False
    password_expired: bool = False
    sort: Sort = Sort.NAME
    descending: bool = False


@dataclass(frozen=True, slots=True)
class DirectoryState:
    """What the tenant's whole list depends on now, read once per request."""

    now: datetime
    since: datetime  # the record's visible window
    locked_ids: frozenset[int]
    password_expired: Exists | None  # None: passwords never expire under the policy


@dataclass(frozen=True, slots=True)
class PersonRow:
    person: User
    methods: list[str] = field(default_factory=list)
    last_signin: datetime | None = None
    locked: bool = False
    open_alerts: int = 0
    password_expired: bool = False


@dataclass(frozen=True, slots=True)
class DirectoryPage:
    rows: list[PersonRow]
    next_cursor: str | None
    prev_cursor: str | None


def directory_state(*, tenant: Tenant, now: datetime | None = None) -> DirectoryState:
    now = now or timezone.now()
    # Who is locked right now: axes' buckets and the account ceiling (a handful of rows).
    locked = frozenset(row.person.pk for row in locked_accounts_list(tenant=tenant, now=now))
    return DirectoryState(now=now, since=visible_since(tenant=tenant, now=now), locked_ids=locked,
                          password_expired=password_expired_exists(tenant=tenant, now=now))


def _display_name() -> Lower:
    """The name a person is shown by, lower-cased: the display name, or the address."""
    return Lower(Coalesce(NullIf("display_name", Value("")), "email", output_field=CharField()))


def _rank(field_name: str, values: Sequence[str]) -> Case:
    return Case(*[When(**{field_name: value}, then=Value(i)) for i, value in enumerate(values)],
                default=Value(len(values)), output_field=IntegerField())


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _sort_key(sort: Sort, *, tenant: Tenant, state: DirectoryState) -> Expression:
    if sort is Sort.EMAIL:
        return Lower("email")
    if sort is Sort.ROLE:  # by rank, owners first
        return _rank("role", Role.values)
    if sort is Sort.STATUS:
        return _rank("status", User.Status.values)
    if sort is Sort.MFA:
        return _flag(mfa_second_factor_exists(tenant=tenant))
    if sort is Sort.LAST_SIGNIN:
        return Coalesce(last_signin_subquery(tenant=tenant, since=state.since, now=state.now),
                        Value(NEVER))
    if sort is Sort.LOCKED:
        return _flag(Q(pk__in=state.locked_ids)) if state.locked_ids else Value(0)
    if sort is Sort.ALERTS:
        return Coalesce(open_alert_total_subquery(tenant=tenant), Value(0))
    return _display_name()


def people_directory(*, tenant: Tenant, filters: DirectoryFilters,
                     state: DirectoryState) -> QuerySet[User]:
    """The tenant's people matching ``filters``, each annotated with the sort key (unordered)."""
    people = User.objects.for_tenant(tenant)
    if filters.query:
        people = people.filter(Q(email__icontains=filters.query)
                               | Q(display_name__icontains=filters.query))
    if filters.role:
        people = people.filter(role=filters.role)
    if filters.status:
        people = people.filter(status=filters.status)
    if filters.no_mfa:
        people = people.exclude(mfa_second_factor_exists(tenant=tenant))
    if filters.locked:
        people = people.filter(pk__in=state.locked_ids)
    if filters.password_expired:
        if state.password_expired is None:
            return people.none().annotate(**{SORT_KEY: Value(0)})
        people = people.filter(state.password_expired)
    return people.annotate(**{SORT_KEY: _sort_key(filters.sort, tenant=tenant, state=state)})


def person_rows(*, tenant: Tenant, people: Sequence[User], state: DirectoryState) -> list[PersonRow]:
    """Each person with what the list shows about them; a constant number of queries."""
    ids = [person.pk for person in people]
    if not ids:
        return []
    methods = mfa_methods_by_user(tenant=tenant, user_ids=ids)
    last = last_signin_by_user(tenant=tenant, user_ids=ids, since=state.since, now=state.now)
    alerts = open_alert_totals_by_user(tenant=tenant, user_ids=ids)
    expired: set[int] = set()
    if state.password_expired is not None:
        expired = set(User.objects.for_tenant(tenant).filter(pk__in=ids)
                      .filter(state.password_expired).values_list("pk", flat=True))
    return [PersonRow(person=person, methods=methods.get(person.pk, []),
                      last_signin=last.get(person.pk), locked=person.pk in state.locked_ids,
                      open_alerts=alerts.get(person.pk, 0), password_expired=person.pk in expired)
            for person in people]


def directory_page(*, tenant: Tenant, filters: DirectoryFilters, state: DirectoryState,
                   cursor: Cursor | None, size: int = PAGE_SIZE) -> DirectoryPage:
    """One keyset page of the people list, with each row's security facts."""
    people = people_directory(tenant=tenant, filters=filters, state=state)
    page: Page = page_fetch(people, sort=filters.sort.value, descending=filters.descending,
                            cursor=cursor, size=size)
    return DirectoryPage(rows=person_rows(tenant=tenant, people=page.rows, state=state),
                         next_cursor=page.next_cursor, prev_cursor=page.prev_cursor)


def people_by_ids(*, tenant: Tenant, ids: Sequence[int]) -> list[User]:
    """The tenant's people among ``ids`` (others' ids simply match nothing), by name."""
    return list(User.objects.for_tenant(tenant).filter(pk__in=list(ids))
                .order_by(_display_name(), "pk"))
