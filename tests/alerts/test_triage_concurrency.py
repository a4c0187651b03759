"""Two admins resolving one alert at the same moment: one change, one timeline entry, one webhook."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from alerts.models import Alert, AlertActivity
from alerts.services import alert_mark_false_positive, alert_resolve
from tests.alerts.triage_support import make_alert, quiet_detector  # noqa: F401
from tests.conftest import _tenant_set

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_resolutions_change_the_alert_once():
    acme = _tenant_set("Acme")
    alert = make_alert(acme.member)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(change, actor) -> None:
        try:
            barrier.wait(timeout=10)
            change(alert=Alert.objects.get(pk=alert.pk), actor=actor)
            outcomes.append("changed")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(alert_resolve, acme.owner)),
               threading.Thread(target=act, args=(alert_mark_false_positive, acme.admin))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["changed", "refused"]
    alert.refresh_from_db()
    assert alert.status in ("resolved", "false_positive")
    assert AlertActivity.objects.filter(alert=alert, kind="status").count() == 1
