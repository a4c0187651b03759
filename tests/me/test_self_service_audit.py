"""What a person does to their own account is in their company's audit trail, with them as the
actor: adding or removing an authenticator, new backup codes (also from the sign-in's forced
enrolment), a password change, ending one of their sessions."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string

from accounts.mfa.flows import totp_enroll_step
from accounts.mfa.models import EncryptedTOTPDevice
from activity.models import AuditLogEntry
from security.models import UserSession
from tests.accounts.test_mfa_support import code_for, enroll, new_session
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Lantern-orchard-quietly-47"


def _entries(person, key: str) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(tenant=person.tenant, object_pk=str(person.pk),
                                             changes__has_key=key).order_by("timestamp", "id"))


def _only(person, key: str) -> AuditLogEntry:
    entries = _entries(person, key)
    assert len(entries) == 1, [e.changes for e in entries]
    entry = entries[0]
    assert (entry.actor_id, entry.actor_email) == (person.pk, person.email)
    return entry


def _confirmed(client) -> None:
    response = client.post("/me/mfa/confirm/?next=/me/mfa/", {"secret": PASSWORD})
    assert response.status_code == 302


def _page_secret(body: str) -> str:
    return re.search(r'data-testid="totp-key">([A-Z2-7 ]+)<', body).group(1).replace(" ", "")


def _step(body: str) -> str:
    return re.search(r'name="step" value="([^"]+)"', body).group(1)


def _shown_to_the_admin(signed_in, tenant_set, text: str) -> bool:
    return text in signed_in(tenant_set.admin).get("/logs/audit/").content.decode()


def test_adding_an_authenticator_is_audited(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(member)
    _confirmed(client)
    body = client.get("/me/mfa/totp/").content.decode()
    response = client.post("/me/mfa/totp/", {"name": "Work phone", "code": code_for(_page_secret(body)),
                                              "step": _step(body)})
    assert response.status_code == 302
    assert _only(member, "mfa").changes == {"mfa": ["", "authenticator added: Work phone"]}
    assert _shown_to_the_admin(signed_in, two_tenants.a, "authenticator added: Work phone")
    assert not _shown_to_the_admin(signed_in, two_tenants.b, "authenticator added")


def test_a_refused_code_adds_nothing_to_the_audit_trail(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(member)
    _confirmed(client)
    body = client.get("/me/mfa/totp/").content.decode()
    client.post("/me/mfa/totp/", {"name": "Phone", "code": "000000", "step": _step(body)})
    assert not EncryptedTOTPDevice.objects.filter(user=member).exists()
    assert _entries(member, "mfa") == []


def test_removing_an_authenticator_is_audited(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(member)
    device, _secret = enroll(member, name="Old phone")
    _confirmed(client)
    assert client.post(f"/me/mfa/devices/{device.pk}/remove/").status_code == 302
    assert [e.changes["mfa"] for e in _entries(member, "mfa")] == [
        ["", "authenticator added: Old phone"], ["", "authenticator removed: Old phone"]]
    assert all(e.actor_id == member.pk for e in _entries(member, "mfa"))


def test_new_backup_codes_are_audited(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(member)
    enroll(member, name="Phone")
    _confirmed(client)
    response = client.post("/me/mfa/backup-codes/")
    assert response.status_code == 200
    assert _entries(member, "mfa")[-1].changes == {"mfa": ["", "backup codes regenerated"]}
    assert _entries(member, "mfa")[-1].actor_id == member.pk


def test_enrolling_at_sign_in_is_audited(two_tenants, rf):
    """The sign-in pipeline's forced enrolment: nobody is signed in yet, the person is the actor."""
    member = two_tenants.a.member
    session = new_session()
    request = rf.get("/signin/mfa/enroll/")
    request.user, request.session = AnonymousUser(), session
    html = render_to_string("accounts/mfa/_enroll_form.html",
                            totp_enroll_step(request=request, user=member).context, request=request)
    request = rf.post("/signin/mfa/enroll/", {"name": "Phone", "code": code_for(_page_secret(html)),
                                               "step": _step(html)})
    request.user, request.session = AnonymousUser(), session
    assert totp_enroll_step(request=request, user=member).device is not None
    assert _only(member, "mfa").changes == {"mfa": ["", "authenticator added: Phone"]}


def test_changing_ones_password_is_audited(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(member)
    response = client.post("/me/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                             "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    entry = _only(member, "password")
    assert entry.changes == {"password": ["", "changed"]}
    assert NEW_PASSWORD not in str(entry.changes) and "argon2" not in str(entry.changes)
    assert _shown_to_the_admin(signed_in, two_tenants.a, "changed")


def test_ending_one_of_ones_sessions_is_audited(two_tenants, signed_in, make_client):
    member = two_tenants.a.member
    phone = make_client()
    phone.post("/signin/", {"email": member.email, "password": PASSWORD}, REMOTE_ADDR="81.2.69.160")
    laptop = signed_in(member)
    row = UserSession.objects.get(user=member, ip="81.2.69.160")
    laptop.post("/me/sessions/", {"session": row.pk})
    entry = _only(member, "session")
    before, after = entry.changes["session"]
    assert after == "ended" and "81.2.69.160" in before
    # Refused attempts (the current session, an unknown id) are not recorded as ends.
    current = UserSession.objects.get(user=member, session_key=laptop.session.session_key)
    laptop.post("/me/sessions/", {"session": current.pk})
    laptop.post("/me/sessions/", {"session": 999999})
    assert len(_entries(member, "session")) == 1
