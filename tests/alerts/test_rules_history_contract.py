"""The rules' in-memory History (tests/alerts/fakes.py) and the detector's BatchHistory agree.

The rule tests run on ``FakeHistory``; the worker runs the same rules on
``alerts.history.BatchHistory``. Given the same rows, every protocol method must answer the same,
or a rule tested here would behave differently in production. (BatchHistory is handed only
failures as failures, as ``history_fetch`` fetches them.)
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.history import BatchHistory
from alerts.models import Trust
from alerts.rules.base import Event, ExportSample
from tests.alerts.fakes import FakeHistory

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
IPS = ["203.0.113.1", "203.0.113.200", "198.51.100.7", "2001:db8:1:2::5", "2001:db8:1:3::5",
       "::ffff:203.0.113.9", "", "bogus"]
LOGINS = ["ana@acme.example", "bo@acme.example"]
TIMES = st.integers(0, 600).map(lambda n: START + n * MINUTE)


@st.composite
def events(draw):
    return Event(
        id=draw(st.integers(1, 10**9)), tenant_id=1, user_id=draw(st.sampled_from([None, 7, 8])),
        login=draw(st.sampled_from(LOGINS)), occurred_at=draw(TIMES),
        outcome=draw(st.sampled_from(["success", "failure"])),
        reason="", ip=draw(st.sampled_from(IPS)), country=draw(st.sampled_from(["DE", "US", ""])),
        browser_family="Chrome", os_family="Windows", device_type="desktop",
    )


SAMPLES = st.builds(ExportSample, id=st.integers(1, 10**9), tenant_id=st.just(1),
                    user_id=st.sampled_from([None, 7, 8]), occurred_at=TIMES,
                    dataset=st.just("signins"), row_count=st.integers(0, 1000))
TRUSTS = st.lists(st.one_of(
    st.tuples(st.sampled_from([7, 8]), st.just("network"),
              st.sampled_from(["203.0.113.0/24", "2001:db8:1::/48", "198.51.100.7/32"])),
    st.tuples(st.sampled_from([7, 8]), st.just("device"),
              st.sampled_from(["Chrome|Windows|desktop", "firefox|linux|DESKTOP"])),
    st.tuples(st.sampled_from([7, 8]), st.just("country"), st.sampled_from(["DE", "us"])),
), max_size=4)


def _unique(rows):
    return list({r.id: r for r in rows}.values())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(events(), max_size=40).map(_unique),
       samples=st.lists(SAMPLES, max_size=20).map(_unique), trusts=TRUSTS,
       since=TIMES, until=TIMES, user_id=st.sampled_from([7, 8]), login=st.sampled_from(LOGINS),
       network=st.sampled_from(["203.0.113.0/24", "203.0.113.1/32", "2001:db8:1:2::/64",
                                "2001:db8::/32", "198.51.100.0/24"]),
       ip=st.sampled_from(IPS), tenant_id=st.sampled_from([1, 2]))
def test_fake_and_batch_history_answer_alike(rows, samples, trusts, since, until, user_id, login,
                                             network, ip, tenant_id):
    fake = FakeHistory(rows, exports=samples, trusts=trusts)
    real = BatchHistory(
        tenant_id=1,
        successes=[e for e in rows if e.outcome == "success"],
        failures=[e for e in rows if e.outcome == "failure"],
        exports=samples,
        trusts=[Trust(tenant_id=1, user_id=u, kind=k, value=v, rule="") for u, k, v in trusts],
    )
    exclude = rows[0].id if rows else 0

    def ids(found):
        return [e.id for e in found]

    assert ids(fake.successes(user_id=user_id, since=since, before=until, exclude_id=exclude)) \
        == ids(real.successes(user_id=user_id, since=since, before=until, exclude_id=exclude))
    assert fake.first_success(user_id=user_id) == real.first_success(user_id=user_id)
    assert fake.success_count(user_id=user_id, before=until) \
        == real.success_count(user_id=user_id, before=until)
    assert ids(fake.account_failures(tenant_id=tenant_id, login=login, since=since, until=until)) \
        == ids(real.account_failures(tenant_id=tenant_id, login=login, since=since, until=until))
    assert ids(fake.network_failures(tenant_id=tenant_id, network=network, since=since,
                                     until=until)) \
        == ids(real.network_failures(tenant_id=tenant_id, network=network, since=since,
                                     until=until))
    assert ids(fake.exports(user_id=user_id, since=since, until=until)) \
        == ids(real.exports(user_id=user_id, since=since, until=until))
    for kind, value in (("network", ip), ("device", "Chrome|Windows|desktop"),
                        ("device", "Firefox|Linux|desktop"), ("country", "US"),
                        ("country", "de")):
        assert fake.is_trusted(user_id=user_id, kind=kind, value=value) \
            == real.is_trusted(user_id=user_id, kind=kind, value=value), (kind, value)
