"""The database itself refuses unknown codes in the record, whoever writes the row."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from activity.models import LoginEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("field", "value"), [
    ("outcome", "=HYPERLINK()"), ("reason", "pwned"), ("mfa_method", "sms"), ("device_type", "toaster"),
])
def test_unknown_codes_are_refused_by_the_database(two_tenants, field, value):
    row = {"tenant": two_tenants.a.tenant, "attempted_login": "x@acme.example", "ip": "192.0.2.1",
           "outcome": "failure", "reason": "bad_credentials", "device_type": "desktop", field: value}
    with pytest.raises(IntegrityError), transaction.atomic():
        LoginEvent.objects.bulk_create([LoginEvent(**row)])
    assert not LoginEvent.objects.exists()
