"""A User-Agent (or typed login) holding lone surrogates — a str no UTF-8 encoder accepts, which
code calling the parser directly can pass — is neutralised like a control character, so its row
saves on PostgreSQL and reads back."""

from __future__ import annotations

import pytest

from activity.capture import ClientInfo, parse_user_agent, text_neutralise, user_agent_clean
from activity.models import LoginEvent
from activity.services import login_event_record

pytestmark = pytest.mark.django_db

SURROGATES = ["Mozilla\ud800", "Mozilla/5.0 \udfff (X11)", "\ud83d\ude00 pair from surrogatepass",
              "\udc80" * 600]


@pytest.mark.parametrize("raw", SURROGATES)
def test_the_cleaned_agent_encodes_as_utf8(raw):
    for text in (user_agent_clean(raw), parse_user_agent(raw).user_agent,
                 text_neutralise(raw, limit=64)):
        text.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate
        assert "\ufffd" in text
    assert user_agent_clean("Mozilla\ud800") == "Mozilla\ufffd"


@pytest.mark.parametrize("raw", SURROGATES)
def test_a_row_with_such_an_agent_saves_and_reads_back(two_tenants, signed_in, raw):
    a = two_tenants.a
    client = ClientInfo.from_parts(ip="198.51.100.7", country="", agent=parse_user_agent(raw))
    event = login_event_record(tenant=a.tenant, user=a.member, attempted_login=f"member{raw}@acme.example",
                               client=client, outcome="failure", reason="bad_credentials")
    stored = LoginEvent.objects.for_tenant(a.tenant).get(pk=event.pk)
    assert stored.user_agent == user_agent_clean(raw)
    assert "\ufffd" in stored.attempted_login and stored.attempted_login.startswith("member")
    # The sign-in's detail page shows it, the neutralised characters as U+FFFD.
    page = signed_in(a.auditor).get(f"/logs/signins/{event.pk}/")
    assert page.status_code == 200
    assert f'data-testid="raw-user-agent">{stored.user_agent}<' in page.content.decode()
