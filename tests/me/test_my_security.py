""""My security" (/me/security/): each section shows the person's own account, and each of its
forms does what it says, for this person only."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from accounts.mfa.models import EncryptedTOTPDevice
from accounts.models import User
from activity.models import AuditLogEntry, LoginEvent
from alerts.report.services import signin_report
from security.models import UserSession
from security.policies.mfa.models import MfaPolicy
from security.policies.password.models import PasswordPolicy
from tests.alerts.triage_support import quiet_detector, signin  # noqa: F401
from tests.factories import PASSWORD
from tests.security.signin_support import SAFARI_IPHONE, post_signin

pytestmark = pytest.mark.django_db

PAGE = "/me/security/"
PHONE_IP = "81.2.69.160"
GLOBEX_IP = "85.214.132.117"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _section(html: str, testid: str) -> str:
    match = re.search(rf'<section[^>]*data-testid="{testid}".*?</section>', html, re.S)
    assert match, f"no {testid} section"
    return match.group(0)


def test_the_page_is_in_the_navigation_for_every_role(two_tenants, signed_in):
    page = signed_in(two_tenants.a.member).get("/me/").content.decode()
    assert f'<a href="{PAGE}">My security</a>' in page


def test_password_section_shows_the_companys_rules_and_changes_the_password(two_tenants, signed_in):
    member = two_tenants.a.member
    PasswordPolicy.objects.create(tenant=member.tenant, min_length=16, require_digit=True)
    client = signed_in(member)
    section = _section(client.get(PAGE).content.decode(), "security-password")
    assert "at least 16 characters" in section
    assert 'name="old_password"' in section and 'name="new_password1"' in section

    short = client.post("/me/security/password/", {
        "old_password": PASSWORD, "new_password1": "Short-1!", "new_password2": "Short-1!"})
    assert short.status_code == 400
    assert "This password is too short." in _section(short.content.decode(), "security-password")
    member.refresh_from_db()
    assert member.check_password(PASSWORD)

    new = "Seven-lanterns-over-the-harbour-42"
    done = client.post("/me/security/password/", {
        "old_password": PASSWORD, "new_password1": new, "new_password2": new}, follow=True)
    assert "Your password has been changed." in done.content.decode()
    member.refresh_from_db()
    assert member.check_password(new)
    assert client.get(PAGE).status_code == 200  # this browser stays signed in


def test_wrong_current_password_is_refused_under_its_field(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(member)
    response = client.post("/me/security/password/", {
        "old_password": "not-it", "new_password1": "Seven-lanterns-42", "new_password2": "Seven-lanterns-42"})
    assert response.status_code == 400
    assert "Your current password is incorrect." in response.content.decode()
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_two_step_section_summarises_devices_codes_and_the_policy(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(member)
    none = _section(client.get(PAGE).content.decode(), "security-mfa")
    assert 'data-testid="mfa-none"' in none and 'href="/me/mfa/"' in none
    assert "requires two-step sign-in" not in none

    EncryptedTOTPDevice.objects.create(tenant=member.tenant, user=member, name="Work phone", key=b"0" * 20,
                                       confirmed=True)
    MfaPolicy.objects.create(tenant=member.tenant, requirement="required_all")
    # Globex's member has an app too: it shows nowhere here.
    other = two_tenants.b.member
    EncryptedTOTPDevice.objects.create(tenant=other.tenant, user=other, name="Globex phone", key=b"1" * 20,
                                       confirmed=True)
    section = _section(client.get(PAGE).content.decode(), "security-mfa")
    assert "Work phone" in section and "Globex phone" not in section
    assert 'data-testid="mfa-required"' in section
    assert 'data-testid="mfa-last-device"' in section  # the only one, under a requirement
    assert "0 unused backup codes left." in section
    assert 'action="/me/mfa/backup-codes/"' in section


def test_sessions_section_lists_mine_and_signs_out_one(two_tenants, make_client):
    member = two_tenants.a.member
    laptop, phone, globex = make_client(), make_client(), make_client()
    post_signin(laptop, member.email, PASSWORD)
    post_signin(phone, member.email, PASSWORD, ua=SAFARI_IPHONE, ip=PHONE_IP)
    post_signin(globex, two_tenants.b.member.email, PASSWORD, ua=FIREFOX_LINUX, ip=GLOBEX_IP)
    section = _section(laptop.get(PAGE).content.decode(), "security-sessions")
    assert "Mobile Safari" in section and PHONE_IP in section and "iOS" in section
    assert "Mobile" in section  # the device type
    assert section.count('data-testid="session-row"') == 2 and 'data-current="1"' in section
    assert GLOBEX_IP not in section and "Firefox" not in section

    globex_row = UserSession.objects.get(user=two_tenants.b.member)
    refused = laptop.post("/me/security/sessions/end/", {"session": globex_row.pk}, follow=True)
    assert "That session does not exist any more." in refused.content.decode()
    assert globex.get("/me/").status_code == 200

    phone_row = UserSession.objects.get(user=member, ip=PHONE_IP)
    before = LoginEvent.objects.for_tenant(member.tenant).filter(outcome="signout").count()
    ended = laptop.post("/me/security/sessions/end/", {"session": phone_row.pk}, follow=True)
    assert "The session was ended." in ended.content.decode()
    # The phone's cookie now gets the sign-in page; the laptop carries on.
    assert phone.get(PAGE, follow=True).redirect_chain[-1][0].startswith("/signin/")
    assert laptop.get(PAGE).status_code == 200
    signouts = LoginEvent.objects.for_tenant(member.tenant).filter(outcome="signout")
    assert signouts.count() == before + 1
    assert signouts.latest("occurred_at").reason == "signed_out"


def test_the_current_session_cannot_be_ended_from_the_list(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(member)
    mine = UserSession.objects.get(user=member)
    response = client.post("/me/security/sessions/end/", {"session": mine.pk}, follow=True)
    assert "Use Sign out to end the session you are using." in response.content.decode()
    for garbage in ("", "x" * 5000, "-1"):
        assert client.post("/me/security/sessions/end/", {"session": garbage}).status_code == 302
    assert client.get(PAGE).status_code == 200


def test_sign_out_of_all_other_sessions(two_tenants, make_client):
    member = two_tenants.a.member
    laptop, phone, tablet, globex = make_client(), make_client(), make_client(), make_client()
    for browser, ip in ((laptop, "8.8.8.8"), (phone, PHONE_IP), (tablet, "81.2.69.161")):
        post_signin(browser, member.email, PASSWORD, ip=ip)
    post_signin(globex, two_tenants.b.member.email, PASSWORD)
    page = laptop.get(PAGE).content.decode()
    assert "Sign out of all 2 other sessions" in page
    audit_before = AuditLogEntry.objects.filter(object_pk=str(member.pk)).count()

    done = laptop.post("/me/security/sessions/end-others/", follow=True)
    assert "2 other sessions were ended." in done.content.decode()
    for other in (phone, tablet):
        assert other.get(PAGE, follow=True).redirect_chain[-1][0].startswith("/signin/")
    assert laptop.get(PAGE).status_code == 200
    assert globex.get("/me/").status_code == 200  # another person's session is untouched
    assert UserSession.objects.filter(user=member).count() == 1
    assert LoginEvent.objects.for_tenant(member.tenant).filter(
        outcome="signout", reason="signed_out", user=member).count() == 2
    assert AuditLogEntry.objects.filter(object_pk=str(member.pk)).count() == audit_before + 1

    again = laptop.post("/me/security/sessions/end-others/", follow=True)
    assert "You were not signed in anywhere else." in again.content.decode()


def test_recent_signins_offer_this_wasnt_me_and_mark_reported_ones(two_tenants, signed_in,
                                                                   quiet_detector):  # noqa: F811
    member = two_tenants.a.member
    reported, unreported = signin(member), signin(member)
    failed = signin(member, outcome="failure")
    theirs = signin(two_tenants.b.member)
    signin_report(user=member, event_id=reported.pk)
    # The report secured the account; the person has chosen a new password since.
    User.objects.filter(pk=member.pk).update(must_change_password=False)
    section = _section(signed_in(member).get(PAGE).content.decode(), "security-signins")

    def row(event: LoginEvent) -> str:
        match = re.search(rf'<tr data-testid="recent-signin" data-event="{event.pk}">.*?</tr>',
                          section, re.S)
        assert match, event
        return match.group(0)

    assert 'data-testid="signin-reported"' in row(reported)
    assert f'action="/alerts/report/signin/{reported.pk}/"' not in row(reported)
    assert f'action="/alerts/report/signin/{unreported.pk}/"' in row(unreported)
    assert 'data-testid="signin-reported"' not in row(unreported)
    assert "report-signin" not in row(failed)  # nobody got in: nothing to report
    assert f'data-event="{theirs.pk}"' not in section
    assert section.count('data-testid="signin-reported"') == 1


def test_language_and_time_zone_are_saved_and_the_language_applies(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(member)
    done = client.post("/me/security/preferences/", {"language": "zh-hans",
                                                     "timezone": "Asia/Shanghai"}, follow=True)
    assert done.status_code == 200
    member.refresh_from_db()
    assert (member.language, member.timezone) == ("zh-hans", "Asia/Shanghai")
    assert '<html lang="zh-hans">' in client.get(PAGE).content.decode()


@pytest.mark.parametrize("zone", ["PRC", "US/Pacific", "Etc/GMT+8", "Mars/Olympus_Mons", "x" * 300])
def test_a_zone_outside_the_list_is_refused_with_a_translated_error(two_tenants, signed_in, zone):
    member = two_tenants.a.member
    client = signed_in(member)
    response = client.post("/me/security/preferences/", {"language": "", "timezone": zone})
    assert response.status_code == 400
    assert "Choose a time zone from the list." in _section(response.content.decode(),
                                                            "security-preferences")
    member.refresh_from_db()
    assert member.timezone == ""


def test_unknown_language_is_refused(two_tenants, signed_in):
    member = two_tenants.a.member
    response = signed_in(member).post("/me/security/preferences/",
                                      {"language": "tlh", "timezone": ""})
    assert response.status_code == 400
    assert "Choose a language from the list." in response.content.decode()
    member.refresh_from_db()
    assert member.language == ""


def test_forms_need_a_post_and_a_signed_in_person(two_tenants, signed_in, make_client):
    anonymous = make_client()
    for url in (PAGE, "/me/security/my-data.csv"):
        assert anonymous.get(url)["Location"].startswith("/signin/")
    client = signed_in(two_tenants.a.member)
    for url in ("/me/security/password/", "/me/security/preferences/",
                "/me/security/sessions/end/", "/me/security/sessions/end-others/"):
        assert client.get(url).status_code == 405


def _passkey(person: User, name: str, **fields) -> WebAuthnCredential:
    return WebAuthnCredential.objects.create(
        user=person, name=name, confirmed=True, credential_id=secrets.token_bytes(16),
        public_key=b"key", credential_id_sha256=secrets.token_hex(32), **fields)


def test_two_step_section_lists_passkeys_and_removes_one(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(member)  # before the passkey: signing in with one is the ceremony's test
    used = datetime(2026, 3, 4, 12, 6, tzinfo=UTC)
    key = _passkey(member, "YubiKey 5C", last_used_at=used)
    _passkey(two_tenants.b.member, "Globex key")  # another company's: shows nowhere here
    MfaPolicy.objects.create(tenant=member.tenant, requirement="required_all")
    passkeys = _section(client.get(PAGE).content.decode(), "security-mfa")
    assert 'data-testid="mfa-passkeys"' in passkeys and "YubiKey 5C" in passkeys
    assert "Globex key" not in passkeys and 'data-testid="mfa-none"' not in passkeys
    assert key.created_at.strftime("%Y-%m-%d") in passkeys and "2026-03-04" in passkeys  # added, last used
    # Under the requirement the only passkey stays: no remove button, the reason instead.
    assert 'data-testid="mfa-last-device"' in passkeys and 'data-testid="mfa-passkey-remove"' not in passkeys

    EncryptedTOTPDevice.objects.create(tenant=member.tenant, user=member, name="Work phone",
                                       key=b"0" * 20, confirmed=True)
    section = _section(client.get(PAGE).content.decode(), "security-mfa")
    assert 'data-testid="mfa-last-device"' not in section
    assert f'action="/me/mfa/passkeys/{key.pk}/remove/"' in section

    assert client.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302  # removing asks
    response = client.post(f"/me/mfa/passkeys/{key.pk}/remove/", {"next": PAGE})
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not WebAuthnCredential.objects.filter(pk=key.pk).exists()
    response = client.get(PAGE)
    page = response.content.decode()
    assert response.status_code == 200, (response.status_code, response.get("Location"), page[:3000])
    assert "The passkey was removed." in page and "YubiKey 5C" not in page
    # Now the app is the last device and stays.
    assert 'data-testid="mfa-last-device"' in _section(page, "security-mfa")


def test_another_persons_passkey_cannot_be_removed_from_here(two_tenants, signed_in):
    key = _passkey(two_tenants.b.member, "Globex key")
    client = signed_in(two_tenants.a.member)
    assert client.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302
    assert client.post(f"/me/mfa/passkeys/{key.pk}/remove/", {"next": PAGE}).status_code == 404
    assert WebAuthnCredential.objects.filter(pk=key.pk).exists()
