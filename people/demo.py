"""The demo tenants used by ``seed_demo`` (embedded default and browser tests), and their history.

The demo must agree with itself: everyone signs in with the demo password (which passes every
demo person's policy), the history shows a second factor only for people who have a device,
and each person's last sign-in is their latest successful one in the history.
"""

from __future__ import annotations

import random
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.mfa.services import mfa_user_has_device
from accounts.models import User
from activity.capture import ClientInfo, ip_country, parse_user_agent
from activity.models import LoginEvent, MfaMethod, Outcome, Reason
from activity.services import login_event_build, login_events_record
from security.policies.password.validators import password_validators_for
from tenants.models import MailDomain, Tenant
from tenants.roles import Role


@dataclass(frozen=True)
class DemoTenant:
    name: str
    slug: str
    domain: str
    timezone: str
    language: str


DEMO_TENANTS = [
    DemoTenant("Acme", "acme", "acme.example", "Asia/Shanghai", "en"),
    DemoTenant("Globex", "globex", "globex.example", "Europe/Berlin", "en"),
]
# Where each demo tenant's people sign in from: office and home networks of its country.
DEMO_NETWORKS: dict[str, tuple[str, str]] = {"acme": ("223.5.5.", "180.76.76."), "globex": ("85.214.132.", "91.64.20.")}
ABROAD_NETWORK = "81.2.69."

DEMO_PEOPLE = [
    ("owner", "Olivia Owner", Role.OWNER),
    ("admin", "Adam Admin", Role.ADMIN),
    ("auditor", "Aude Auditor", Role.AUDITOR),
    ("helpdesk", "Hal Helpdesk", Role.HELPDESK),
    ("alice", "Alice Liddell", Role.MEMBER),
    ("bob", "Bob Builder", Role.MEMBER),
    ("carol", "Carol Chen", Role.MEMBER),
    ("dave", "Dave Du", Role.MEMBER),
    ("erin", "Erin Evans", Role.MEMBER),
    ("frank", "Frank Fang", Role.MEMBER),
]


def demo_seed(*, password: str) -> list[tuple[str, str]]:
    """Create (or refresh) the demo tenants and people; returns (email, role) of each.

    Raises ``ValidationError`` (and changes nothing) when ``password`` breaks a demo person's
    password policy: they would be sent to change it at their first sign-in.
    """
    logins: list[tuple[str, str]] = []
    with transaction.atomic():
        for spec in DEMO_TENANTS:
            tenant, _ = Tenant.objects.update_or_create(
                slug=spec.slug,
                defaults={"name": spec.name, "timezone": spec.timezone, "language": spec.language},
            )
            MailDomain.objects.get_or_create(domain=spec.domain, defaults={"tenant": tenant})
            for local, name, role in DEMO_PEOPLE:
                email = f"{local}@{spec.domain}"
                user = User.objects.filter(email=email).first() or User(email=email)
                user.tenant = tenant
                user.display_name = name
                user.role = role
                user.status = User.Status.ACTIVE
                try:
                    validate_password(password, user,
                                      password_validators=password_validators_for(user))
                except ValidationError as exc:
                    raise ValidationError(f"{email}: {' '.join(exc.messages)}",
                                          code="demo_password") from None
                user.set_password(password)
                user.date_joined = user.date_joined or timezone.now()
                user.save()
                logins.append((email, role))
    return logins


# --- History --------------------------------------------------------------------------------------
DEMO_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
)
UNKNOWN_LOGINS = ("info", "test", "support", "jobs")


def _client(ip: str, agent: str) -> ClientInfo:
    return ClientInfo.from_parts(ip=ip, country=ip_country(ip), agent=parse_user_agent(agent))


def _history_events(tenant: Tenant, people: list[User], days: int, rng: random.Random) -> list[LoginEvent]:
    zone = zoneinfo.ZoneInfo(tenant.timezone)
    networks = DEMO_NETWORKS.get(tenant.slug, ("8.8.8.", "8.8.4."))
    domain = MailDomain.objects.for_tenant(tenant).values_list("domain", flat=True).first() or ""
    # Each person's clients: an office desktop and, for most, a phone at home.
    clients = {
        person.pk: [_client(f"{networks[0]}{rng.randrange(2, 250)}", rng.choice(DEMO_AGENTS[:3])),
                    _client(f"{networks[1]}{rng.randrange(2, 250)}", rng.choice(DEMO_AGENTS[3:]))]
        for person in people
    }
    with_device = {person.pk for person in people if mfa_user_has_device(user=person)}
    today = timezone.localdate(timezone=zone)
    events: list[LoginEvent] = []

    def add(person: User | None, login: str, at: datetime, client: ClientInfo, outcome: Outcome,
            reason: Reason, *, mfa: MfaMethod = MfaMethod.NONE, session: str | None = None) -> None:
        events.append(login_event_build(
            tenant=tenant, user=person, attempted_login=login, client=client, outcome=outcome,
            reason=reason, mfa_method=mfa, session_key=session, occurred_at=at))

    for back in range(days, 0, -1):  # the days before today, in the tenant's zone
        day = today - timedelta(days=back)
        midnight = datetime.combine(day, time.min, tzinfo=zone)
        weekend = day.weekday() >= 5
        for person in people:
            if rng.random() < (0.8 if weekend else 0.1):
                continue
            client = rng.choice(clients[person.pk]) if rng.random() < 0.97 else _client(
                f"{ABROAD_NETWORK}{rng.randrange(2, 250)}", DEMO_AGENTS[0])
            at = midnight + timedelta(hours=rng.uniform(7.5, 18.5))
            if rng.random() < 0.06:  # a mistyped password first
                add(person, person.email, at - timedelta(seconds=40), client, Outcome.FAILURE,
                    Reason.BAD_CREDENTIALS)
            session = f"{rng.getrandbits(128):032x}"
            if person.pk in with_device:
                add(person, person.email, at - timedelta(seconds=15), client, Outcome.CHALLENGE,
                    Reason.MFA_CHALLENGE)
                add(person, person.email, at, client, Outcome.SUCCESS, Reason.MFA_VERIFIED,
                    mfa=MfaMethod.TOTP, session=session)
            else:
                add(person, person.email, at, client, Outcome.SUCCESS, Reason.PASSWORD_OK,
                    session=session)
            if rng.random() < 0.3:
                add(person, person.email, at + timedelta(hours=rng.uniform(0.5, 4)), client,
                    Outcome.SIGNOUT, Reason.SIGNED_OUT, session=session)
        if rng.random() < 0.3 and domain:  # someone guessing addresses
            add(None, f"{rng.choice(UNKNOWN_LOGINS)}@{domain}",
                midnight + timedelta(hours=rng.uniform(0, 24)),
                _client(f"{ABROAD_NETWORK}{rng.randrange(2, 250)}", DEMO_AGENTS[1]),
                Outcome.FAILURE, Reason.UNKNOWN_ACCOUNT)
    return events


def demo_history_seed(*, tenants: list[Tenant], days: int = 60, seed: int = 7) -> int:
    """Add ``days`` of sign-in history for the demo tenants' active people; once per tenant.

    A tenant that already has events older than two days is skipped, so ``seed_demo`` can run
    on every ``make run``. Each person's ``last_login`` becomes their latest successful sign-in
    (unless they signed in since). Returns the number of events added.
    """
    cutoff = timezone.now() - timedelta(days=2)
    added = 0
    for n, tenant in enumerate(tenants):
        if LoginEvent.objects.for_tenant(tenant).filter(occurred_at__lt=cutoff).exists():
            continue
        people = list(User.objects.for_tenant(tenant).filter(status=User.Status.ACTIVE).order_by("pk"))
        rng = random.Random(seed + n)  # noqa: S311  # demo data, reproducible by seed
        with transaction.atomic():
            added += login_events_record(tenant=tenant,
                                         events=_history_events(tenant, people, days, rng))
            latest = dict(
                LoginEvent.objects.for_tenant(tenant)
                .filter(outcome=Outcome.SUCCESS, user__isnull=False)
                .values("user").annotate(latest=Max("occurred_at")).values_list("user", "latest")
            )
            for person in people:
                last = latest.get(person.pk)
                if last is not None and (person.last_login is None or person.last_login < last):
                    User.objects.for_tenant(tenant).filter(pk=person.pk).update(last_login=last)
    return added
