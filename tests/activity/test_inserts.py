"""activity.inserts.rows_insert: the sign-in's rows in one statement, all or nothing."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from activity.capture import ClientInfo, DeviceType
from activity.inserts import rows_insert
from activity.models import LoginEvent
from activity.services import login_event_build
from security.models import UserSession

pytestmark = pytest.mark.django_db

CLIENT = ClientInfo(
    ip="2001:db8::7", country="DE", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    browser_family="Firefox", browser_version="128.0", os_family="Linux", os_version="",
    device_type=DeviceType.DESKTOP,
)


def _rows(tenant_set, *, outcome: str = "success"):
    session = UserSession(session_key="k" * 32, tenant=tenant_set.tenant, user=tenant_set.member,
                          ip=CLIENT.ip, country="DE", browser="Firefox 128.0", device_type="desktop")
    event = login_event_build(tenant=tenant_set.tenant, user=tenant_set.member,
                              attempted_login=tenant_set.member.email, client=CLIENT,
                              outcome="success", reason="password_ok", session_key="k" * 32)
    event.outcome = outcome  # past the service's own check, to reach the database's
    return session, event


def test_two_tables_one_statement_and_the_objects_get_their_keys(two_tenants) -> None:
    session, event = _rows(two_tenants.a)
    with CaptureQueriesContext(connection) as queries:
        rows_insert(session, event)
    assert len(queries.captured_queries) == 1
    assert queries.captured_queries[0]["sql"].startswith("WITH ")
    stored_session = UserSession.objects.get(pk=session.pk)
    stored_event = LoginEvent.objects.get(pk=event.pk)
    assert (stored_session.session_key, stored_session.user_id) == ("k" * 32, two_tenants.a.member.pk)
    assert stored_session.started_at is not None  # auto_now_add ran, as save() would
    assert (stored_event.ip, stored_event.browser_family, stored_event.tenant_id) == (
        "2001:db8::7", "Firefox", two_tenants.a.tenant.pk)
    assert not session._state.adding and not event._state.adding


def test_a_row_the_database_refuses_raises_and_leaves_nothing(two_tenants) -> None:
    session, event = _rows(two_tenants.a, outcome="not-a-code")  # the CHECK constraint refuses
    with pytest.raises(DatabaseError), transaction.atomic():
        rows_insert(session, event)
    assert not UserSession.objects.filter(session_key="k" * 32).exists()
    assert not LoginEvent.objects.filter(tenant=two_tenants.a.tenant).exists()
