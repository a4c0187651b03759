"""The record's write path: one row per call, the right tenant, nothing secret, append-only."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext, override_settings

from activity.capture import ClientInfo, DeviceType, client_info
from activity.clientip import UNKNOWN_IP
from activity.models import (
    ExportEvent,
    ExportStatus,
    LoginEvent,
    MfaMethod,
    Outcome,
    Reason,
    RecordImmutableError,
)
from activity.services import (
    export_event_complete,
    export_event_start,
    login_event_record,
    session_reference,
)
from tests.conftest import TwoTenants

pytestmark = pytest.mark.django_db

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/124.0.0.0 Safari/537.36")
CLIENT = ClientInfo(
    ip="8.8.8.8", country="US", user_agent=CHROME_WINDOWS, browser_family="Chrome",
    browser_version="124.0.0", os_family="Windows", os_version="10", device_type=DeviceType.DESKTOP,
)
SESSION_KEY = "k3x9q2w8e7r6t5y4u3i2o1p0a9s8d7f6"


def test_login_event_record_writes_exactly_one_row(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    with CaptureQueriesContext(connection) as queries:
        event = login_event_record(
            tenant=a.tenant, user=a.member, attempted_login="  Member@ACME.example ", client=CLIENT,
            outcome=Outcome.SUCCESS, reason=Reason.MFA_VERIFIED, mfa_method=MfaMethod.TOTP,
            session_key=SESSION_KEY,
        )
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert LoginEvent.objects.count() == 1
    stored = LoginEvent.objects.get()
    assert stored.pk == event.pk
    assert (stored.tenant_id, stored.user_id) == (a.tenant.pk, a.member.pk)
    assert stored.attempted_login == "member@acme.example"
    assert (stored.outcome, stored.reason, stored.mfa_method) == ("success", "mfa_verified", "totp")
    assert (stored.ip, stored.country, stored.device_type) == ("8.8.8.8", "US", "desktop")
    assert (stored.browser_family, stored.browser_version) == ("Chrome", "124.0.0")
    assert (stored.os_family, stored.os_version) == ("Windows", "10")
    assert stored.user_agent == CHROME_WINDOWS
    assert stored.occurred_at.tzinfo is not None


def test_session_key_is_stored_only_as_a_short_reference(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    event = login_event_record(
        tenant=a.tenant, user=a.member, attempted_login=a.member.email, client=CLIENT,
        outcome=Outcome.SUCCESS, reason=Reason.PASSWORD_OK, session_key=SESSION_KEY,
    )
    assert event.session_ref == hashlib.sha256(SESSION_KEY.encode()).hexdigest()[:8]
    row = LoginEvent.objects.filter(pk=event.pk).values().get()
    assert not any(SESSION_KEY in str(value) for value in row.values())
    assert session_reference(None) == session_reference("") == ""


def test_for_tenant_isolates_the_two_tenants(two_tenants: TwoTenants) -> None:
    a, b = two_tenants.a, two_tenants.b
    mine = login_event_record(tenant=a.tenant, user=a.member, attempted_login=a.member.email,
                              client=CLIENT, outcome=Outcome.FAILURE, reason=Reason.BAD_CREDENTIALS)
    theirs = login_event_record(tenant=b.tenant, user=None, attempted_login="nobody@globex.example",
                                client=CLIENT, outcome=Outcome.FAILURE,
                                reason=Reason.UNKNOWN_ACCOUNT)
    assert list(LoginEvent.objects.for_tenant(a.tenant)) == [mine]
    assert list(LoginEvent.objects.for_tenant(b.tenant)) == [theirs]
    assert theirs.user is None


def test_a_person_of_another_tenant_is_refused_and_nothing_is_written(two_tenants: TwoTenants) -> None:
    with pytest.raises(ValueError, match="tenant"):
        login_event_record(tenant=two_tenants.a.tenant, user=two_tenants.b.member,
                           attempted_login="x@globex.example", client=CLIENT,
                           outcome=Outcome.SUCCESS, reason=Reason.PASSWORD_OK)
    assert not LoginEvent.objects.exists()


@pytest.mark.parametrize(
    ("outcome", "reason", "mfa_method"),
    [("won", "bad_credentials", ""), ("failure", "because", ""), ("success", "password_ok", "sms")],
)
def test_unknown_codes_are_refused(two_tenants: TwoTenants, outcome: str, reason: str,
                                   mfa_method: str) -> None:
    with pytest.raises(ValueError):
        login_event_record(tenant=two_tenants.a.tenant, user=None, attempted_login="x",
                           client=CLIENT, outcome=outcome, reason=reason, mfa_method=mfa_method)
    assert not LoginEvent.objects.exists()


def test_naive_time_is_refused_and_aware_time_kept(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    with pytest.raises(ValueError, match="aware"):
        login_event_record(tenant=a.tenant, user=None, attempted_login="x", client=CLIENT,
                           outcome=Outcome.FAILURE, reason=Reason.UNKNOWN_ACCOUNT,
                           occurred_at=datetime(2026, 1, 1, 12, 0))  # noqa: DTZ001 -- the point
    when = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    event = login_event_record(tenant=a.tenant, user=None, attempted_login="x", client=CLIENT,
                               outcome=Outcome.FAILURE, reason=Reason.UNKNOWN_ACCOUNT,
                               occurred_at=when)
    assert LoginEvent.objects.get(pk=event.pk).occurred_at == when


def test_hostile_attempted_login_is_bounded_and_neutralised(two_tenants: TwoTenants) -> None:
    event = login_event_record(tenant=two_tenants.a.tenant, user=None,
                               attempted_login="Evil\x00\r\n" + "a" * 10_000, client=CLIENT,
                               outcome=Outcome.FAILURE, reason=Reason.UNKNOWN_ACCOUNT)
    stored = LoginEvent.objects.get(pk=event.pk).attempted_login
    assert len(stored) == 254
    assert stored.startswith("evil\ufffd\ufffd\ufffda")


def test_login_events_are_append_only(two_tenants: TwoTenants) -> None:
    event = login_event_record(tenant=two_tenants.a.tenant, user=None, attempted_login="x",
                               client=CLIENT, outcome=Outcome.FAILURE,
                               reason=Reason.UNKNOWN_ACCOUNT)
    event.outcome = Outcome.SUCCESS
    with pytest.raises(RecordImmutableError):
        event.save()
    with pytest.raises(RecordImmutableError):
        LoginEvent.objects.filter(pk=event.pk).update(outcome=Outcome.SUCCESS)
    assert LoginEvent.objects.get(pk=event.pk).outcome == Outcome.FAILURE


def test_deleting_the_person_keeps_their_events(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    event = login_event_record(tenant=a.tenant, user=a.member, attempted_login=a.member.email,
                               client=CLIENT, outcome=Outcome.SUCCESS, reason=Reason.PASSWORD_OK)
    a.member.delete()
    stored = LoginEvent.objects.get(pk=event.pk)
    assert stored.user_id is None
    assert stored.attempted_login == a.member.email


def test_export_event_is_started_then_completed_once(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    event = export_event_start(tenant=a.tenant, user=a.auditor, client=CLIENT, dataset="signins",
                               format="csv", filters={"outcome": "failure", "days": 30})
    assert event.status == ExportStatus.STARTED
    done = export_event_complete(event=event, row_count=120, byte_count=34_567)
    assert (done.status, done.row_count, done.byte_count) == ("completed", 120, 34_567)
    assert done.completed_at is not None
    again = export_event_complete(event=event, row_count=1, byte_count=1, complete=False)
    assert (again.status, again.row_count) == ("completed", 120)
    assert list(ExportEvent.objects.for_tenant(two_tenants.b.tenant)) == []
    done.row_count = 0
    with pytest.raises(RecordImmutableError):
        done.save()


def test_broken_off_export_is_incomplete(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    event = export_event_start(tenant=a.tenant, user=a.owner, client=CLIENT, dataset="exports",
                               format="csv", filters={})
    assert export_event_complete(event=event, row_count=5, byte_count=99,
                                 complete=False).status == ExportStatus.INCOMPLETE


# --- client_info on a request ----------------------------------------------------------------

@override_settings(TRUSTED_PROXY_COUNT=0, TRUSTED_PROXY_CIDRS=[])
def test_client_info_from_a_request() -> None:
    request = RequestFactory().get(
        "/signin/", REMOTE_ADDR="8.8.8.8", HTTP_USER_AGENT=CHROME_WINDOWS,
        HTTP_X_FORWARDED_FOR="10.0.0.1", HTTP_SEC_CH_UA_PLATFORM='"Windows"',
        HTTP_SEC_CH_UA_MOBILE="?0", HTTP_SEC_CH_UA_PLATFORM_VERSION='"15.0.0"',
    )
    info = client_info(request)
    assert info == dataclasses.replace(CLIENT, os_version="11")
    assert client_info(request) is info  # computed once per request


@override_settings(TRUSTED_PROXY_COUNT=0, TRUSTED_PROXY_CIDRS=[])
def test_client_info_repairs_utf8_read_as_latin1_and_survives_garbage() -> None:
    ua = "MailApp/2.0 (Zürich)"
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1",
                                   HTTP_USER_AGENT=ua.encode().decode("latin-1"))
    assert client_info(request).user_agent == ua
    assert client_info(request).country == ""
    hostile = RequestFactory().get("/", REMOTE_ADDR="bogus", HTTP_USER_AGENT="\x00" * 20_000)
    info = client_info(hostile)
    assert (info.ip, info.country, info.device_type) == (UNKNOWN_IP, "", DeviceType.OTHER)
    assert info.user_agent == "\ufffd" * 512
