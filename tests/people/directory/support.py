"""Rows the people list shows, made the way the console makes them (or as the record holds them)."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

from axes.models import AccessAttempt
from django.utils import timezone

from accounts.models import User
from activity.models import LoginEvent
from alerts.models import Alert


def signed_in_at(person: User, *, ago: timedelta, outcome: str = "success") -> LoginEvent:
    return LoginEvent.objects.create(
        tenant=person.tenant, user=person, attempted_login=person.email, ip="198.51.100.7",
        occurred_at=timezone.now() - ago, outcome=outcome,
        reason="" if outcome == "success" else "bad_credentials")


def lock_out(person: User, failures: int = 5) -> None:
    attempt = AccessAttempt.objects.create(
        username=person.email, ip_address="203.0.113.9", user_agent="test", http_accept="*/*",
        path_info="/signin/", get_data="", post_data="", failures_since_start=failures)
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=timezone.now())


def open_alert(person: User, n: int = 0) -> Alert:
    now = timezone.now()
    return Alert.objects.create(tenant=person.tenant, rule="new_country", severity="medium",
                                user=person, dedup_key=f"test:{person.pk}:{n}", first_seen=now,
                                last_seen=now, count=1)


def emails_in(body: str) -> list[str]:
    """The people rows' addresses, in the page's order."""
    parser = _RowParser()
    parser.feed(body)
    return parser.emails


class _RowParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.emails: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and values.get("data-testid") == "person-row":
            self.emails.append(values.get("data-email") or "")


class LabelAudit(HTMLParser):
    """Every form control of a page and whether it has an accessible name (a label element for
    its id, a wrapping label, or aria-label): the axe rule 'label', for our markup."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self._label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "label":
            self._label_depth += 1
            if values.get("for"):
                self.label_for.add(values["for"] or "")
        if tag in ("input", "select", "textarea") and values.get("type") not in ("hidden", "submit"):
            self.controls.append({**values, "_wrapped": "1" if self._label_depth else ""})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_depth -= 1

    def unlabelled(self) -> list[dict[str, str | None]]:
        return [c for c in self.controls
                if not c["_wrapped"] and not c.get("aria-label") and c.get("id") not in self.label_for]


def unlabelled_controls(body: str) -> list[dict[str, str | None]]:
    audit = LabelAudit()
    audit.feed(body)
    assert audit.controls, "the page has no form controls to check"
    return audit.unlabelled()
