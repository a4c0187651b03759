"""My mail client passwords: created once and shown once, only a digest stored, revocable, private."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from accounts.mailclients.models import MAX_ACTIVE_PER_PERSON, MailClientPassword
from accounts.mailclients.services import (
    mail_client_password_create,
    mail_client_passwords_revoke_all,
)

pytestmark = pytest.mark.django_db

SHOWN = re.compile(r'data-testid="mail-password">([a-z2-9-]+)<')


def _create(client, name: str) -> str:
    response = client.post("/me/mail-clients/", {"name": name})
    assert response.status_code == 200
    match = SHOWN.search(response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1)


def test_a_password_is_shown_once_and_only_its_sha256_is_stored(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(member)
    plaintext = _create(client, "Outlook on my laptop")
    assert re.fullmatch(r"([a-z2-9]{4}-){5}[a-z2-9]{4}", plaintext)
    row = MailClientPassword.objects.for_tenant(member.tenant).get(user=member)
    assert row.digest == hashlib.sha256(plaintext.encode()).hexdigest()
    assert row.name == "Outlook on my laptop"
    page = client.get("/me/mail-clients/").content.decode()
    assert "Outlook on my laptop" in page and plaintext not in page and row.digest not in page
    assert "Never" in page


def test_bad_names_are_refused_with_a_message_and_create_nothing(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(member)
    for name, message in (("   ", "Name the mail client"), ("\u202e\u0007", "Name the mail client"),
                          ("x" * 65, "at most 64")):
        body = client.post("/me/mail-clients/", {"name": name}).content.decode()
        assert message in body, name
        assert not SHOWN.search(body)
    _create(client, "Phone")
    assert "already has a password" in client.post("/me/mail-clients/", {"name": "phone"}).content.decode()
    assert MailClientPassword.objects.for_tenant(member.tenant).filter(user=member).count() == 1


def test_control_characters_in_a_name_are_not_kept(two_tenants):
    row, _ = mail_client_password_create(user=two_tenants.a.member, name="Fox\u0000mail\u202e  on\tPC")
    assert row.name == "Fox mail on PC"


def test_the_number_of_active_passwords_is_bounded(two_tenants):
    member = two_tenants.a.member
    for i in range(MAX_ACTIVE_PER_PERSON):
        mail_client_password_create(user=member, name=f"client {i}")
    with pytest.raises(ValidationError, match="revoke one"):
        mail_client_password_create(user=member, name="one more")


def test_revoking_is_own_only_and_another_tenants_id_is_404(two_tenants, signed_in):
    mine, _ = mail_client_password_create(user=two_tenants.a.member, name="Mine")
    colleague, _ = mail_client_password_create(user=two_tenants.a.admin, name="Colleague's")
    globex, _ = mail_client_password_create(user=two_tenants.b.member, name="Globex's")
    client = signed_in(two_tenants.a.member)
    assert client.post(f"/me/mail-clients/{globex.pk}/revoke/").status_code == 404
    assert client.post(f"/me/mail-clients/{colleague.pk}/revoke/").status_code == 404
    assert client.get(f"/me/mail-clients/{mine.pk}/revoke/").status_code == 405
    response = client.post(f"/me/mail-clients/{mine.pk}/revoke/", follow=True)
    assert "can no longer sign in" in response.content.decode()
    assert "Globex" not in client.get("/me/mail-clients/").content.decode()
    states = dict(MailClientPassword.objects.values_list("name", "revoked_at"))
    assert states["Mine"] is not None
    assert states["Colleague's"] is None and states["Globex's"] is None


def test_revoke_all_revokes_only_that_persons_active_passwords(two_tenants):
    member = two_tenants.a.member
    mail_client_password_create(user=member, name="A")
    mail_client_password_create(user=member, name="B")
    mail_client_password_create(user=two_tenants.a.admin, name="Admin's")
    assert mail_client_passwords_revoke_all(user=member, actor=two_tenants.a.admin) == 2
    assert MailClientPassword.objects.filter(revoked_at__isnull=True).count() == 1
    with pytest.raises(PermissionDenied):  # another tenant's admin
        mail_client_passwords_revoke_all(user=two_tenants.a.admin, actor=two_tenants.b.admin)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the passdb view is PostgreSQL's")
def test_the_passdb_view_has_active_passwords_of_active_people_only(two_tenants):
    member, admin = two_tenants.a.member, two_tenants.a.admin
    row, plaintext = mail_client_password_create(user=member, name="Phone")
    revoked, _ = mail_client_password_create(user=member, name="Old phone")
    revoked.revoked_at = revoked.created_at
    revoked.save()
    mail_client_password_create(user=admin, name="Admin's phone")
    admin.status = admin.Status.SUSPENDED
    admin.save()
    secured = two_tenants.a.auditor  # "This wasn't me": secured, must choose a new password
    mail_client_password_create(user=secured, name="Stolen laptop")
    type(secured).objects.filter(pk=secured.pk).update(must_change_password=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT login, password, mail_client_id FROM mailadmin_mail_passdb")
        rows = cursor.fetchall()
    digest = hashlib.sha256(plaintext.encode()).hexdigest()
    assert rows == [(member.email, "{SHA256.HEX}" + digest, row.pk)]
