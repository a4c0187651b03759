"""Log filters: parsing (pure, no database) and what each filter selects (through the selectors)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.http import QueryDict

from activity.filters import (
    AuditFilters,
    ExportEventFilters,
    LoginEventFilters,
    audit_filters_from_query,
    export_filters_from_query,
    filters_describe,
    login_filters_from_query,
)
from activity.models import (
    AuditLogEntry,
    ExportStatus,
    MfaMethod,
    Outcome,
    Protocol,
    Reason,
    RetentionPolicy,
)
from activity.selectors import (
    audit_entries_filtered,
    export_events_filtered,
    login_event_get,
    login_events_filtered,
    visible_since,
)
from activity.services import login_event_record
from tenants.models import Tenant
from tests.activity.test_log_support import PHONE, export, login

SHANGHAI = Tenant(name="Shanghai Co", slug="sh", timezone="Asia/Shanghai")
UTC_TENANT = Tenant(name="UTC Co", slug="utc", timezone="UTC")


def parse(query: str, tenant: Tenant = UTC_TENANT, **kwargs):
    return login_filters_from_query(tenant=tenant, params=QueryDict(query), **kwargs)


# --- Parsing ------------------------------------------------------------------------------------


def test_empty_query_means_no_filter() -> None:
    parsed = parse("")
    assert parsed.filters == LoginEventFilters(dates=parsed.filters.dates)
    assert parsed.errors == [] and parsed.as_query() == "" and not parsed.active


def test_every_login_filter_round_trips_through_as_query() -> None:
    query = ("person=7&address=Alice%40Acme.example&exact=1&ip=10.1.2.3/8&country=cn&outcome=failure"
             "&reason=bad_credentials&browser=Chrome&os=Windows&device=mobile&mfa=totp"
             "&protocol=imap&from=2026-03-01&to=2026-03-31")
    parsed = parse(query)
    f = parsed.filters
    assert parsed.errors == []
    assert (f.person, f.address, f.address_exact) == (7, "alice@acme.example", True)
    assert (f.ip, f.network, f.country) == ("", "10.0.0.0/8", "CN")
    assert (f.outcome, f.reason, f.browser, f.os, f.device, f.mfa, f.protocol) == (
        "failure", "bad_credentials", "Chrome", "Windows", "mobile", "totp", "imap")
    assert (f.dates.date_from, f.dates.date_to) == (date(2026, 3, 1), date(2026, 3, 31))
    again = parse(parsed.as_query())
    assert again.filters == f and again.errors == []
    assert parsed.as_dict()["ip"] == "10.0.0.0/8"


@pytest.mark.parametrize(("value", "ip", "network"), [
    ("192.0.2.7", "192.0.2.7", ""),
    ("192.0.2.7/32", "192.0.2.7", ""),
    ("192.0.2.7/24", "", "192.0.2.0/24"),
    ("2001:DB8::1", "2001:db8::1", ""),
    ("2001:db8::/32", "", "2001:db8::/32"),
    ("2001:db8:abcd::1/48", "", "2001:db8:abcd::/48"),
    ("::ffff:192.0.2.7", "192.0.2.7", ""),
    ("::ffff:192.0.2.0/120", "", "192.0.2.0/24"),
    (" 10.0.0.0/8 ", "", "10.0.0.0/8"),
])
def test_ip_and_cidr_parse(value: str, ip: str, network: str) -> None:
    parsed = login_filters_from_query(tenant=UTC_TENANT, params={"ip": value})
    assert parsed.errors == []
    assert (parsed.filters.ip, parsed.filters.network) == (ip, network)


@pytest.mark.parametrize("value", [
    "300.1.1.1", "10.0.0.0/33", "2001:db8::/129", "10.0.0", "localhost", "1.2.3.4/-1",
    "2001:db8:::1", "1.2.3.4/8/8", "'; DROP TABLE x; --", "10.0.0.0/8\x00", "\uff11.\uff12.\uff13.\uff14",
])
def test_malformed_ip_is_refused_with_a_message(value: str) -> None:
    parsed = login_filters_from_query(tenant=UTC_TENANT, params={"ip": value, "outcome": "failure"})
    assert len(parsed.errors) == 1
    assert (parsed.filters.ip, parsed.filters.network) == ("", "")
    assert parsed.filters.outcome == "failure"  # the other filters still apply


@pytest.mark.parametrize(("key", "value"), [
    ("outcome", "hacked"), ("reason", "because"), ("device", "toaster"), ("mfa", "sms"),
    ("protocol", "smtp-relay"),
    ("country", "USA"), ("country", "1A"), ("person", "-3"), ("person", "abc"), ("person", "0"),
    ("person", "99999999999999999999"), ("person", "١٢"), ("from", "yesterday"),
    ("from", "99999-01-01"), ("to", "1999-12-31"), ("from", "2026-02-30"), ("to", "2026-3-1"),
    ("address", "x" * 300), ("browser", "Chrome\x00"), ("os", "Win\ndows"),
])
def test_bad_values_are_dropped_with_one_message(key: str, value: str) -> None:
    parsed = login_filters_from_query(tenant=UTC_TENANT, params={key: value})
    assert len(parsed.errors) == 1, parsed.errors
    assert parsed.filters == LoginEventFilters(dates=parsed.filters.dates)
    assert parsed.as_query() == ""


def test_from_after_to_is_swapped_and_said() -> None:
    parsed = parse("from=2026-04-10&to=2026-04-01")
    assert (parsed.filters.dates.date_from, parsed.filters.dates.date_to) == (
        date(2026, 4, 1), date(2026, 4, 10))
    assert len(parsed.errors) == 1 and "swapped" in parsed.errors[0]


def test_mfa_none_means_no_second_factor() -> None:
    assert parse("mfa=none").filters.mfa == MfaMethod.NONE == ""
    assert parse("mfa=").filters.mfa is None
    assert parse("mfa=none").as_dict() == {"mfa": "none"}


def test_address_substring_is_kept_as_typed_exact_is_normalised() -> None:
    assert parse("address=Acme").filters.address == "Acme"
    assert parse("address=+Bob%40ACME.example+&exact=1").filters.address == "bob@acme.example"
    assert parse("exact=1").as_dict() == {}  # exact alone is no filter


def test_day_boundaries_are_in_the_tenant_time_zone() -> None:
    dates = parse("from=2026-03-10&to=2026-03-10", tenant=SHANGHAI).filters.dates
    # Midnight in Shanghai (UTC+8) is 16:00 UTC the day before; "to" includes the whole day.
    assert dates.starts_at == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    assert dates.ends_before == datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


def test_an_explicit_time_zone_wins_over_the_tenant() -> None:
    dates = parse("from=2026-03-10", tenant=SHANGHAI, tz="America/New_York").filters.dates
    assert dates.starts_at == datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # EDT from 8 March


def test_a_dst_day_is_23_hours_long() -> None:
    dates = parse("from=2026-03-08&to=2026-03-08", tz="America/New_York").filters.dates
    assert dates.ends_before - dates.starts_at == timedelta(hours=23)


def test_export_filters_parse() -> None:
    parsed = export_filters_from_query(tenant=UTC_TENANT, params=QueryDict(
        "person=3&dataset=signins&file_format=csv&status=incomplete&from=2026-01-01&format=jsonl"))
    assert parsed.errors == []
    assert parsed.filters == ExportEventFilters(
        person=3, dataset="signins", file_format="csv", status="incomplete",
        dates=parsed.filters.dates)
    assert "format" not in parsed.as_dict()  # ?format= belongs to the export URL itself
    bad = export_filters_from_query(tenant=UTC_TENANT, params={
        "dataset": "Sign ins!", "file_format": "c;sv", "status": "done"})
    assert len(bad.errors) == 3 and not bad.active


def test_audit_filters_parse() -> None:
    parsed = audit_filters_from_query(tenant=UTC_TENANT, params=QueryDict(
        "actor=5&type=accounts.user&action=1&to=2026-02-01"))
    assert parsed.errors == []
    assert parsed.filters == AuditFilters(actor=5, object_type="accounts.user", action=1,
                                          dates=parsed.filters.dates)
    bad = audit_filters_from_query(tenant=UTC_TENANT, params={
        "type": "auth.permission", "action": "9", "actor": "me"})
    assert len(bad.errors) == 3 and not bad.active


def test_a_10kb_query_string_does_not_raise() -> None:
    query = "&".join(f"k{i}=" + "x" * 90 for i in range(110)) + "&address=" + "y" * 10_000
    parsed = parse(query)
    assert len(parsed.errors) == 1 and not parsed.active


def test_filters_describe_reads_a_record_back() -> None:
    described = dict(filters_describe({"outcome": "failure", "country": "CN", "mfa": "none",
                                       "from": "2026-03-01", "unknown": "x" * 1000}))
    assert described["Outcome"] == "Failure" and described["Country"] == "CN"
    assert described["Second factor"] == "None" and described["From"] == "2026-03-01"
    assert len(described["unknown"]) == 254
    assert filters_describe(["not", "a", "dict"]) == [] and filters_describe(None) == []


# --- What each filter selects ---------------------------------------------------------------------


def _select(tenant: Tenant, query: str) -> set[int]:
    parsed = login_filters_from_query(tenant=tenant, params=QueryDict(query))
    assert parsed.errors == []
    return set(login_events_filtered(tenant=tenant, filters=parsed.filters)
               .values_list("pk", flat=True))


@pytest.mark.django_db
def test_each_login_filter_selects_its_rows_and_never_the_other_tenant(two_tenants) -> None:
    a, b = two_tenants.a, two_tenants.b
    ok = login(a.tenant, user=a.member)
    phone_fail = login(a.tenant, user=a.admin, client=PHONE, outcome=Outcome.FAILURE,
                       reason=Reason.BAD_CREDENTIALS)
    totp = login(a.tenant, user=a.owner, outcome=Outcome.SUCCESS, reason=Reason.MFA_VERIFIED,
                 mfa=MfaMethod.TOTP, ip="2001:db8:1::5", country="")
    unknown = login(a.tenant, address="ghost@acme.example", outcome=Outcome.FAILURE,
                    reason=Reason.UNKNOWN_ACCOUNT, ip="10.20.30.40", country="")
    # The other tenant has a twin of every row; none may appear.
    login(b.tenant, user=b.member)
    login(b.tenant, user=b.admin, client=PHONE, outcome=Outcome.FAILURE, reason=Reason.BAD_CREDENTIALS)
    login(b.tenant, user=b.owner, mfa=MfaMethod.TOTP, reason=Reason.MFA_VERIFIED, ip="2001:db8:1::6")
    login(b.tenant, address="ghost@globex.example", ip="10.20.30.41", outcome=Outcome.FAILURE,
          reason=Reason.UNKNOWN_ACCOUNT)
    t = a.tenant
    assert _select(t, "") == {ok.pk, phone_fail.pk, totp.pk, unknown.pk}
    assert _select(t, f"person={a.member.pk}") == {ok.pk}
    assert _select(t, f"person={b.member.pk}") == set()
    assert _select(t, "address=GHOST") == {unknown.pk}
    assert _select(t, "address=ghost@acme.example&exact=1") == {unknown.pk}
    assert _select(t, "address=ghost@acme&exact=1") == set()
    assert _select(t, "ip=223.5.5.5") == {phone_fail.pk}
    assert _select(t, "ip=10.0.0.0/8") == {unknown.pk}
    assert _select(t, "ip=10.20.30.40/32") == {unknown.pk}
    assert _select(t, "ip=2001:db8::/32") == {totp.pk}
    assert _select(t, "ip=2001:db8:1::/64") == {totp.pk}
    assert _select(t, "ip=2001:db8:2::/48") == set()
    assert _select(t, "ip=::/0") == {totp.pk}
    assert _select(t, "ip=0.0.0.0/0") == {ok.pk, phone_fail.pk, unknown.pk}
    assert _select(t, "country=cn") == {phone_fail.pk}
    assert _select(t, "outcome=failure") == {phone_fail.pk, unknown.pk}
    assert _select(t, "reason=unknown_account") == {unknown.pk}
    assert _select(t, "browser=mobile+safari") == {phone_fail.pk}
    assert _select(t, "os=iOS") == {phone_fail.pk}
    assert _select(t, "device=mobile") == {phone_fail.pk}
    assert _select(t, "mfa=totp") == {totp.pk}
    assert _select(t, "mfa=none") == {ok.pk, phone_fail.pk, unknown.pk}
    assert _select(t, "outcome=failure&country=CN&device=mobile") == {phone_fail.pk}


@pytest.mark.django_db
def test_the_protocol_filter_tells_mail_clients_from_the_browser(two_tenants) -> None:
    a, b = two_tenants.a, two_tenants.b
    web = login(a.tenant, user=a.member)
    imap = login_event_record(tenant=a.tenant, user=a.member, attempted_login=a.member.email,
                              client=PHONE, outcome=Outcome.FAILURE,
                              reason=Reason.BAD_CREDENTIALS, protocol=Protocol.IMAP)
    login_event_record(tenant=b.tenant, user=b.member, attempted_login=b.member.email,
                       client=PHONE, outcome=Outcome.FAILURE, reason=Reason.BAD_CREDENTIALS,
                       protocol=Protocol.IMAP)
    assert _select(a.tenant, "protocol=imap") == {imap.pk}
    assert _select(a.tenant, "protocol=web") == {web.pk}
    assert _select(a.tenant, "protocol=pop3") == set()


@pytest.mark.django_db
@time_machine.travel(datetime(2026, 3, 20, 12, 0, tzinfo=UTC), tick=False)
def test_date_filter_uses_shanghai_day_boundaries(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    Tenant.objects.filter(pk=tenant.pk).update(timezone="Asia/Shanghai")
    tenant.refresh_from_db()
    before = login(tenant, at=datetime(2026, 3, 9, 15, 59, 59, 999999, tzinfo=UTC))  # 9 Mar 23:59 CST
    first = login(tenant, at=datetime(2026, 3, 9, 16, 0, tzinfo=UTC))  # 10 Mar 00:00 CST
    last = login(tenant, at=datetime(2026, 3, 10, 15, 59, 59, 999999, tzinfo=UTC))  # 10 Mar 23:59:59
    after = login(tenant, at=datetime(2026, 3, 10, 16, 0, tzinfo=UTC))  # 11 Mar 00:00 CST
    assert _select(tenant, "from=2026-03-10&to=2026-03-10") == {first.pk, last.pk}
    assert _select(tenant, "to=2026-03-09") == {before.pk}
    assert _select(tenant, "from=2026-03-11") == {after.pk}


@pytest.mark.django_db
def test_visible_window_hides_older_rows_even_with_an_earlier_from(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    RetentionPolicy.objects.create(tenant=tenant, visible_days=30, purge_days=180, audit_days=365)
    now = datetime.now(UTC)
    old = login(tenant, at=now - timedelta(days=31))
    new = login(tenant, at=now - timedelta(days=29))
    assert visible_since(tenant=tenant, now=now) == now - timedelta(days=30)
    assert _select(tenant, "from=2000-01-01") == {new.pk}
    earlier = now - timedelta(days=60)  # a grey-zone reader passes ``since`` deliberately
    assert set(login_events_filtered(tenant=tenant, filters=LoginEventFilters(), since=earlier)
               .values_list("pk", flat=True)) == {old.pk, new.pk}
    from django.http import Http404
    with pytest.raises(Http404):
        login_event_get(tenant=tenant, pk=old.pk)
    assert login_event_get(tenant=tenant, pk=new.pk) == new


@pytest.mark.django_db
def test_export_filters_select(two_tenants) -> None:
    a, b = two_tenants.a, two_tenants.b
    done = export(a.tenant, a.admin, dataset="signins", fmt="csv")
    broken = export(a.tenant, a.auditor, dataset="audit", fmt="jsonl", complete=False)
    running = export(a.tenant, a.auditor, dataset="exports", complete=None)
    export(b.tenant, b.admin)

    def select(query: str) -> set[int]:
        parsed = export_filters_from_query(tenant=a.tenant, params=QueryDict(query))
        return set(export_events_filtered(tenant=a.tenant, filters=parsed.filters)
                   .values_list("pk", flat=True))

    assert select("") == {done.pk, broken.pk, running.pk}
    assert select(f"person={a.auditor.pk}") == {broken.pk, running.pk}
    assert select("dataset=signins") == {done.pk}
    assert select("file_format=jsonl") == {broken.pk}
    assert select(f"status={ExportStatus.INCOMPLETE}") == {broken.pk}
    assert select(f"status={ExportStatus.STARTED}") == {running.pk}


@pytest.mark.django_db
def test_audit_filters_select(two_tenants) -> None:
    a, b = two_tenants.a, two_tenants.b
    mine = AuditLogEntry.objects.filter(tenant=a.tenant)
    assert mine.exists()
    entry = AuditLogEntry.objects.log_create(a.member, force_log=True, action=AuditLogEntry.Action.UPDATE,
                                             changes={"display_name": ["A", "B"]}, actor=a.admin)

    def select(query: str) -> set[int]:
        parsed = audit_filters_from_query(tenant=a.tenant, params=QueryDict(query))
        assert parsed.errors == []
        return set(audit_entries_filtered(tenant=a.tenant, filters=parsed.filters)
                   .values_list("pk", flat=True))

    everything = select("")
    assert everything == set(mine.values_list("pk", flat=True))
    assert not everything & set(AuditLogEntry.objects.filter(tenant=b.tenant).values_list("pk", flat=True))
    assert select(f"actor={a.admin.pk}") == {entry.pk}
    assert entry.pk in select("type=accounts.user&action=1")
    assert select("type=tenants.maildomain&action=1") == set()
    assert select(f"actor={b.admin.pk}") == set()
