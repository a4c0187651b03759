"""Which language a person gets: the switcher (signed out and signed in), the person's own
language, the company's default, the browser's Accept-Language; and e-mails in the recipient's
language, whoever caused them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail

from accounts.models import User
from people.services import person_mfa_reset
from tenants.models import Tenant
from tests.accounts.test_mfa_support import enroll
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

CHINESE_SIGNIN = "忘记密码\uff1f"  # the sign-in page's "Forgot password?" link (full-width ?)
ENGLISH_SIGNIN = "Forgot password?"


def _page(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def _sign_in(client, user: User, **headers: str):
    response = client.post("/signin/", {"email": user.email, "password": PASSWORD}, **headers)
    assert response.status_code == 302, response.content[:300]
    return client


def test_the_sign_in_page_follows_the_browsers_language(client, db):
    chinese = _page(client.get("/signin/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.8"))
    assert '<html lang="zh-hans">' in chinese and CHINESE_SIGNIN in chinese
    english = _page(client.get("/signin/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9"))
    assert '<html lang="en">' in english and ENGLISH_SIGNIN in english
    # A browser asking for a language the console does not offer gets the default, English.
    assert ENGLISH_SIGNIN in _page(client.get("/signin/", HTTP_ACCEPT_LANGUAGE="fr-FR"))


def test_the_switcher_is_on_signed_out_and_signed_in_pages(client, two_tenants):
    for page in (_page(client.get("/signin/")), _page(client.get("/signin/forgot/"))):
        assert 'data-testid="language-switcher"' in page
        assert '<option value="zh-hans" lang="zh-hans">简体中文</option>' in page
    _sign_in(client, two_tenants.a.member)
    assert 'data-testid="language-switcher"' in _page(client.get("/me/"))


def test_signed_out_the_switcher_choice_beats_the_browser(client, db):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/signin/"},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == "/signin/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert CHINESE_SIGNIN in _page(client.get("/signin/", HTTP_ACCEPT_LANGUAGE="en"))
    client.post("/i18n/setlang/", {"language": "en", "next": "/signin/"})
    assert ENGLISH_SIGNIN in _page(client.get("/signin/", HTTP_ACCEPT_LANGUAGE="zh-CN"))


def test_the_switcher_refuses_what_it_should(client, db):
    assert client.get("/i18n/setlang/").status_code == 405
    # Another site as "next": the browser comes back to the console, not there.
    response = client.post("/i18n/setlang/", {"language": "zh-hans",
                                              "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil.example" not in response["Location"]
    # A language that is not offered changes nothing.
    client.post("/i18n/setlang/", {"language": "fr", "next": "/signin/"})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"


def test_signed_in_the_switcher_saves_the_persons_language(client, make_client, two_tenants):
    member = two_tenants.a.member
    _sign_in(client, member)
    assert "My profile" in _page(client.get("/me/"))
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/me/"})
    assert response.status_code == 302 and response["Location"] == "/me/"
    member.refresh_from_db()
    assert member.language == "zh-hans"
    assert "我的个人资料" in _page(client.get("/me/"))
    # On another browser, with an English Accept-Language, the person still reads Chinese.
    other = _sign_in(make_client(), member, HTTP_ACCEPT_LANGUAGE="en")
    assert "我的个人资料" in _page(other.get("/me/", HTTP_ACCEPT_LANGUAGE="en"))
    # Globex's member is untouched.
    two_tenants.b.member.refresh_from_db()
    assert two_tenants.b.member.language == ""


def test_the_persons_language_then_the_companys_default(make_client, two_tenants):
    Tenant.objects.filter(pk=two_tenants.a.tenant.pk).update(language="zh-hans")
    member, admin = two_tenants.a.member, two_tenants.a.admin
    User.objects.filter(pk=admin.pk).update(language="en")
    # No language of their own: the company's default, whatever the browser says.
    client = _sign_in(make_client(), member, HTTP_ACCEPT_LANGUAGE="en")
    page = _page(client.get("/me/", HTTP_ACCEPT_LANGUAGE="en"))
    assert '<html lang="zh-hans">' in page and "我的个人资料" in page
    # Their own language beats the company's default and the browser.
    client = _sign_in(make_client(), admin, HTTP_ACCEPT_LANGUAGE="zh-CN")
    page = _page(client.get("/me/", HTTP_ACCEPT_LANGUAGE="zh-CN"))
    assert '<html lang="en">' in page and "My profile" in page
    # Globex keeps English.
    client = _sign_in(make_client(), two_tenants.b.member)
    assert "My profile" in _page(client.get("/me/"))


def test_a_language_no_longer_offered_falls_back_to_the_closest(make_client, two_tenants):
    User.objects.filter(pk=two_tenants.a.member.pk).update(language="zh-cn")
    client = _sign_in(make_client(), two_tenants.a.member)
    assert "我的个人资料" in _page(client.get("/me/"))
    User.objects.filter(pk=two_tenants.a.member.pk).update(language="fr")
    assert "My profile" in _page(client.get("/me/"))


def test_an_invitation_goes_out_in_the_companys_language(client, two_tenants):
    """An English-speaking admin invites someone into a Chinese company: the e-mail is Chinese."""
    Tenant.objects.filter(pk=two_tenants.a.tenant.pk).update(language="zh-hans")
    User.objects.filter(pk=two_tenants.a.admin.pk).update(language="en")
    _sign_in(client, two_tenants.a.admin)
    response = client.post("/people/invite/", {"email": "xin@acme.example", "role": "member",
                                               "display_name": "Xin"})
    assert response.status_code == 302
    assert "Invitation sent" in _page(client.get("/people/"))  # the admin reads English
    [sent] = mail.outbox
    assert sent.to == ["xin@acme.example"]
    assert sent.subject == "您受邀加入 mailadmin 上的 Acme"
    assert "请通过此链接设置您的密码" in sent.body and "/invitation/" in sent.body


def test_an_mfa_reset_e_mail_is_in_the_recipients_own_language(two_tenants,
                                                                django_capture_on_commit_callbacks):
    a = two_tenants.a
    User.objects.filter(pk=a.member.pk).update(language="zh-hans")
    a.member.refresh_from_db()
    User.objects.filter(pk=a.admin.pk).update(language="en")
    Tenant.objects.filter(pk=a.tenant.pk).update(language="zh-hans")
    a.tenant.refresh_from_db()
    colleague = UserFactory(tenant=a.tenant, email="colleague@acme.example", language="en")
    enroll(a.member)
    enroll(colleague)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        person_mfa_reset(tenant=a.tenant, actor=a.admin, person=a.member)
        person_mfa_reset(tenant=a.tenant, actor=a.admin, person=colleague)
    by_recipient = {message.to[0]: message for message in mail.outbox}
    chinese, english = by_recipient[a.member.email], by_recipient[colleague.email]
    assert chinese.subject == "您账户的两步验证已被重置"
    assert "管理员重置了您账户的两步验证" in chinese.body
    assert english.subject == "Two-step sign-in was reset on your account"


def test_the_sign_in_pages_choice_carries_past_sign_in(make_client, two_tenants):
    """Chosen on the sign-in page by someone with no language of their own: it becomes theirs,
    over the company's default; someone with a language keeps it."""
    Tenant.objects.filter(pk=two_tenants.a.tenant.pk).update(language="en")
    member, admin = two_tenants.a.member, two_tenants.a.admin
    User.objects.filter(pk=admin.pk).update(language="en")
    for person in (member, admin):
        client = make_client()
        client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/signin/"})
        assert CHINESE_SIGNIN in _page(client.get("/signin/"))
        _sign_in(client, person)
        person.refresh_from_db()
        page = _page(client.get("/me/"))
        if person == member:
            assert person.language == "zh-hans" and "我的个人资料" in page
        else:
            assert person.language == "en" and "My profile" in page
    # Without a choice on the sign-in page nothing is saved: the company's default still applies.
    other = two_tenants.a.helpdesk
    _sign_in(make_client(), other)
    other.refresh_from_db()
    assert other.language == ""
