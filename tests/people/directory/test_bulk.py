"""Bulk actions from the people list: one confirmation page saying what happens to whom and who
is skipped and why; applying goes through each person's own service (audited), asks for a recent
confirmation of the acting admin, and acts on nobody of another tenant."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType

from accounts.mfa import services as mfa_services
from accounts.mfa.models import EncryptedTOTPDevice
from accounts.models import User
from activity.models import AuditLogEntry
from notifications.models import OutboxMessage
from tenants.roles import Role
from tests.accounts.test_mfa_support import enroll
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

BULK = "/people/bulk/"


def _post(client, action: str, people, *, stage: str = "review", **extra):
    # Applying confirms it is you (the test's sign-in marks no recent confirmation); the test of
    # that confirmation passes ``secret`` itself.
    extra.setdefault("secret", PASSWORD if stage == "apply" else "")
    data = {"action": action, "stage": stage, "person": [str(p.pk) for p in people],
            "back": "role=member", **extra}
    return client.post(BULK, data)


def _audited(person: User) -> int:
    return AuditLogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User),
                                        object_pk=str(person.pk)).count()


def _status(person: User) -> str:
    person.refresh_from_db()
    return person.status


def test_confirm_page_says_who_changes_and_who_is_skipped_and_changes_nothing(two_tenants, signed_in):
    a = two_tenants.a
    suspended = UserFactory(tenant=a.tenant, email="gone@acme.example", status=User.Status.SUSPENDED)
    client = signed_in(a.admin)
    response = _post(client, "suspend", [a.member, a.helpdesk, a.admin, a.owner, suspended])
    assert response.status_code == 200
    body = response.content.decode()
    assert "This will change 2 people" in body
    assert "They cannot sign in, and every session of theirs ends now." in body
    assert body.count('data-testid="bulk-target"') == 2
    assert "3 people will be skipped" in body
    assert "This is you: change your own account from your own pages." in body
    assert "Your role may not manage a person with the role Owner." in body
    assert "Only an active person can be suspended." in body
    assert 'data-testid="bulk-apply"' in body and "Suspend these people" in body
    assert _status(a.member) == _status(a.helpdesk) == User.Status.ACTIVE


def test_apply_suspends_each_person_through_its_service_and_skips_the_rest(two_tenants, signed_in):
    a = two_tenants.a
    client = signed_in(a.admin)  # signing in counts as a fresh confirmation for five minutes
    before = _audited(a.member)
    response = _post(client, "suspend", [a.member, a.helpdesk, a.owner], stage="apply")
    assert response.status_code == 302 and response["Location"] == "/people/?role=member"
    assert _status(a.member) == _status(a.helpdesk) == User.Status.SUSPENDED
    assert _status(a.owner) == User.Status.ACTIVE
    assert _audited(a.member) > before
    page = client.get(response["Location"]).content.decode()
    assert "Suspend: done for 2 people" in page
    # And back: reactivate them, skipping the one who is still active.
    response = _post(client, "reactivate", [a.member, a.helpdesk, a.auditor], stage="apply")
    assert _status(a.member) == _status(a.helpdesk) == User.Status.ACTIVE


def test_after_five_minutes_applying_asks_who_you_are_first(two_tenants, signed_in):
    a = two_tenants.a
    client = signed_in(a.admin)
    with time_machine.travel(time.time() + mfa_services.RECENT_AUTH_SECONDS + 5):
        review = _post(client, "suspend", [a.member]).content.decode()
        assert "Your password or a code from your authenticator app" in review
        response = _post(client, "suspend", [a.member], stage="apply", secret="")
        assert response.status_code == 400
        assert "Enter your password or a code to confirm it is you." in response.content.decode()
        response = _post(client, "suspend", [a.member], stage="apply", secret="not-my-password")
        assert response.status_code == 400
        assert "That password or code is not correct." in response.content.decode()
        assert _status(a.member) == User.Status.ACTIVE
        response = _post(client, "suspend", [a.member], stage="apply", secret=PASSWORD)
        assert response.status_code == 302
        assert _status(a.member) == User.Status.SUSPENDED


def test_another_tenants_id_is_404_and_nobody_changes(two_tenants, signed_in):
    a, b = two_tenants.a, two_tenants.b
    client = signed_in(a.owner)
    for stage in ("review", "apply"):
        response = _post(client, "suspend", [a.member, b.member], stage=stage)
        assert response.status_code == 404
    assert _status(a.member) == _status(b.member) == User.Status.ACTIVE
    response = client.post(BULK, {"action": "suspend", "stage": "apply", "person": ["2000000000"]})
    assert response.status_code == 404


@pytest.mark.parametrize(("ids", "message"), [
    ([], "Select at least one person first."),
    (["12abc", "MEMBER"], "The selection is not valid."),
    ([*[str(n) for n in range(1, 501)], "MEMBER"], "Select at most 500 people at a time."),
])
def test_a_bad_selection_changes_nothing_and_says_why(two_tenants, signed_in, ids, message):
    a = two_tenants.a
    client = signed_in(a.admin)
    response = client.post(BULK, {"action": "suspend", "stage": "apply", "person": [
        str(a.member.pk) if i == "MEMBER" else i for i in ids]},
                           follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _status(a.member) == User.Status.ACTIVE


def test_an_unknown_action_changes_nothing(two_tenants, signed_in):
    a = two_tenants.a
    client = signed_in(a.admin)
    response = _post(client, "delete_everyone", [a.member], stage="apply")
    assert response.status_code == 302
    assert _status(a.member) == User.Status.ACTIVE


def test_capabilities_helpdesk_cannot_offboard_auditor_acts_on_nobody_member_is_refused(
        two_tenants, signed_in, make_client):
    a = two_tenants.a
    helpdesk = signed_in(a.helpdesk)
    assert _post(helpdesk, "offboard", [a.member], stage="apply", reason="left").status_code == 403
    assert _status(a.member) == User.Status.ACTIVE
    menu = helpdesk.get("/people/").content.decode()
    assert 'value="suspend"' in menu and 'value="offboard"' not in menu
    for role in ("auditor", "member"):
        client = make_client()
        client.post("/signin/", {"email": a.by_role(role).email, "password": PASSWORD})
        assert _post(client, "suspend", [a.helpdesk], stage="apply").status_code == 403
    assert _status(a.helpdesk) == User.Status.ACTIVE


def test_offboarding_in_bulk_needs_a_reason_and_is_audited(two_tenants, signed_in):
    a = two_tenants.a
    client = signed_in(a.owner)
    review = _post(client, "offboard", [a.member, a.auditor]).content.decode()
    assert "Reason (recorded in the audit trail)" in review and "This will change 2 people" in review
    response = _post(client, "offboard", [a.member, a.auditor], stage="apply", reason="  ")
    assert response.status_code == 400
    assert "Say why these people are being offboarded." in response.content.decode()
    assert _status(a.member) == User.Status.ACTIVE
    before = _audited(a.member)
    response = _post(client, "offboard", [a.member, a.auditor], stage="apply",
                     reason="Left the company")
    assert response.status_code == 302
    assert _status(a.member) == _status(a.auditor) == User.Status.OFFBOARDED
    assert _audited(a.member) > before
    review = _post(client, "offboard", [a.member]).content.decode()
    assert "Already offboarded." in review and 'data-testid="bulk-apply"' not in review


def test_reset_mfa_and_remind_to_enrol(two_tenants, signed_in):
    a = two_tenants.a
    enroll(a.member)
    client = signed_in(a.admin)
    review = _post(client, "reset_mfa", [a.member, a.auditor]).content.decode()
    assert "Has no two-step sign-in to reset." in review
    _post(client, "reset_mfa", [a.member, a.auditor], stage="apply")
    assert not EncryptedTOTPDevice.objects.filter(user=a.member).exists()

    enroll(a.helpdesk)
    review = _post(client, "remind_mfa", [a.helpdesk, a.member, a.auditor]).content.decode()
    assert "Already uses two-step sign-in." in review and "This will change 2 people" in review
    for _ in range(2):  # pressed twice the same day: one e-mail each
        response = _post(client, "remind_mfa", [a.helpdesk, a.member, a.auditor], stage="apply")
        assert response.status_code == 302
    reminders = OutboxMessage.objects.filter(kind="mfa_enrol_reminder")
    assert sorted(reminders.values_list("to", flat=True)) == sorted([a.member.email, a.auditor.email])
    assert "two-step sign-in" in reminders.first().body and "/me/mfa/" in reminders.first().body


def test_require_a_password_change(two_tenants, signed_in):
    a = two_tenants.a
    client = signed_in(a.admin)
    _post(client, "require_password_change", [a.member], stage="apply")
    a.member.refresh_from_db()
    assert a.member.must_change_password
    review = _post(client, "require_password_change", [a.member]).content.decode()
    assert "Already has to choose a new password at the next sign-in." in review


def test_select_all_on_this_page(two_tenants, signed_in):
    a = two_tenants.a
    client = signed_in(a.admin)
    page = client.get("/people/", {"role": Role.MEMBER})
    ids = [str(row.person.pk) for row in page.context["page"].rows]
    assert ids == [str(a.member.pk)]
    response = client.post(BULK, {"action": "suspend", "stage": "review", "all_on_page": "1",
                                  "page_ids": ids})
    assert "This will change 1 person" in response.content.decode()
