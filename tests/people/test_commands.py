from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.models import User
from tenants.models import MailDomain, Tenant
from tenants.roles import Role

pytestmark = pytest.mark.django_db


def test_create_tenant_invites_the_first_owner(capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("create_tenant", "--name", "Initech", "--domain", "Initech.Example",
                     "--owner", "Peter@initech.example", "--timezone", "Asia/Shanghai")
    tenant = Tenant.objects.get(slug="initech")
    assert tenant.timezone == "Asia/Shanghai"
    assert MailDomain.objects.get(tenant=tenant).domain == "initech.example"
    owner = User.objects.get(email="peter@initech.example")
    assert owner.role == Role.OWNER and owner.status == User.Status.INVITED
    assert "/invitation/" in capsys.readouterr().out
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--domain", "acme.example", "--owner", "x@acme.example"], "already in use"),
    (["--domain", "new.example", "--owner", "not-an-email"], "valid e-mail"),
    (["--domain", "new.example", "--owner", "x@other.example"], "tenant's domain"),
    (["--domain", "bad domain!", "--owner", "x@new.example"], "valid mail domain"),
    (["--domain", "new.example", "--owner", "x@new.example", "--timezone", "Mars/Base"], "Unknown time zone"),
])
def test_create_tenant_rejects_bad_input_and_changes_nothing(two_tenants, args, message):
    before = (Tenant.objects.count(), User.objects.count(), MailDomain.objects.count())
    with pytest.raises(CommandError, match=message):
        call_command("create_tenant", "--name", "Newco", *args)
    assert (Tenant.objects.count(), User.objects.count(), MailDomain.objects.count()) == before


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not Tenant.objects.filter(slug="acme").exists()


def test_seed_demo_creates_both_tenants_with_every_role(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    for slug in ("acme", "globex"):
        roles = set(User.objects.filter(tenant__slug=slug).values_list("role", flat=True))
        assert roles == set(Role.values)
    owner = User.objects.get(email="owner@acme.example")
    assert owner.check_password(settings.DEMO_PASSWORD)
