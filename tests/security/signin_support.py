"""Helpers for the end-to-end sign-in tests."""

from __future__ import annotations

import re

import pyotp

from activity.models import LoginEvent

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                  "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
PUBLIC_US_IP = "8.8.8.8"


def post_signin(client, email: str, password: str, *, ip: str = PUBLIC_US_IP,
                ua: str = CHROME_WINDOWS, **headers):
    return client.post("/signin/", {"email": email, "password": password},
                       REMOTE_ADDR=ip, HTTP_USER_AGENT=ua, **headers)


def events(tenant) -> list[LoginEvent]:
    return list(LoginEvent.objects.for_tenant(tenant).order_by("occurred_at", "id"))


def only_new_event(tenant, before: int) -> LoginEvent:
    rows = events(tenant)
    assert len(rows) == before + 1, [(e.outcome, e.reason) for e in rows[before:]]
    return rows[-1]


def totp_from_page(html: str) -> pyotp.TOTP:
    key = re.search(r'data-testid="totp-key">([^<]+)<', html).group(1)
    return pyotp.TOTP(key.replace(" ", "").replace("-", ""))


def normalise_page(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)
    return re.sub(r'name="email" value="[^"]*"', "EMAIL", html)
