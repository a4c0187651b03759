"""/me/password/: a new password the policy rejects is a form error on the page, for every role."""

from __future__ import annotations

import re

import pytest

from activity.models import AuditLogEntry
from tenants.roles import Role
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

REJECTED = [
    # (what the new password is, the message the page must show)
    (lambda user: "Short-1!", "This password is too short."),
    # The e-mail's local part ("owner", "auditor"…) is one of the person's context words.
    (lambda user: f"{user.email.split('@')[0]}-horse-battery-staple", "easy to guess"),
]


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("new_password", "message"), REJECTED, ids=["too_short", "contains_name"])
def test_rejected_new_password_is_shown_and_changes_nothing(two_tenants, signed_in, make_client,
                                                           role, new_password, message):
    user = two_tenants.a.by_role(role)
    client = signed_in(user)
    old_hash = user.password
    audit_before = AuditLogEntry.objects.count()
    password = new_password(user)

    response = client.post("/me/password/", {
        "old_password": PASSWORD, "new_password1": password, "new_password2": password})

    assert response.status_code == 200
    body = response.content.decode()
    # Under the new password field, as the invitation page shows the same errors.
    assert re.search(r'<p class="error">[^<]*' + re.escape(message), body), body[-3000:]
    user.refresh_from_db()
    assert user.password == old_hash
    assert not user.check_password(password)
    assert AuditLogEntry.objects.count() == audit_before
    # The session that tried is still signed in, and the old password still opens a new one.
    assert client.get("/me/").status_code == 200
    again = make_client().post("/signin/", {"email": user.email, "password": PASSWORD})
    assert again.status_code == 302 and not again["Location"].startswith("/signin/")
