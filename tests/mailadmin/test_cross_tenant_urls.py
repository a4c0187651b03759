"""Every parameterised console URL, fed another tenant's ids, answers like a missing id and acts on
nothing.

For each role of Acme, each parameterised route is requested with GET and POST three times: with an
id of Globex's object of the route's kind, with an id that exists nowhere, and with Acme's own
object. Globex's id must answer exactly like the missing one (404 for a role with the capability,
the same refusal for a role without it; 405 when the method itself is refused), never 200 or a
redirect, and Globex's data must be unchanged afterwards. Acme's own ids must not 404 or 403 for a
role with the capability, so the walk cannot pass by refusing everything. A parameterised route
this module does not know fails the walk: a new route needs its object kind declared here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone
from django_otp_webauthn.models import WebAuthnCredential

from accounts.mailclients.models import MailClientPassword
from accounts.mailclients.services import mail_client_password_create
from accounts.mfa.models import BackupCode, BackupCodeDevice, EncryptedTOTPDevice
from accounts.models import User
from activity.models import AuditLogEntry, ExportEvent, LoginEvent
from activity.services import audit_entry_record
from alerts.models import Alert, Trust
from notifications.models import WebhookDelivery, WebhookEndpoint
from people.models import ImportJob
from people.offboarding.services import person_offboard
from people.services import invitation_resend, person_invite
from retention.models import LegalHold
from security.models import UserSession
from tenants.models import Invitation, Tenant
from tenants.roles import ROLE_CAPABILITIES, Role
from tests.accounts.test_mfa_support import enroll
from tests.factories import PASSWORD, UserFactory
from tests.people.imports.support import previewed
from tests.security.signin_support import post_signin
from tests.urlwalk import capability_of, console_routes

pytestmark = pytest.mark.django_db

MISSING_ID = 2_000_000_000

# Route → the kind of object its id names. Kinds are chosen so that a missing tenant check would
# visibly act: the person to reactivate is suspended, the one to unlock is locked, and so on.
ROUTE_KINDS: dict[str, str] = {
    "people/<int:pk>/": "person",
    "people/<int:pk>/role/": "person",
    "people/<int:pk>/suspend/": "person",
    "people/<int:pk>/reactivate/": "suspended_person",
    "people/<int:pk>/reset-mfa/": "person",
    "people/<int:pk>/unlock/": "locked_person",
    "people/<int:pk>/resend/": "invited_person",
    "people/<int:pk>/signins/": "person",
    "people/<int:pk>/require-password-change/": "person",
    "people/<int:pk>/end-sessions/": "person",
    "people/<int:pk>/send-reset-link/": "person",
    "people/<int:pk>/mail/": "person",  # the mail-protocols switch
    "people/<int:pk>/revoke-invitation/": "invited_person",
    "people/<int:pk>/offboard/cancel/": "scheduled_person",
    "people/<int:pk>/offboard/reactivate/": "offboarded_person",
    "people/<int:pk>/offboard/": "scheduled_person",  # last of the people: it offboards Acme's own
    "logs/signins/<int:pk>/": "signin_event",
    "me/mfa/devices/<int:pk>/remove/": "mfa_device",
    "me/mfa/passkeys/<int:pk>/remove/": "passkey",
    "me/mail-clients/<int:pk>/revoke/": "mail_client_password",  # Acme's own: the actor's
    "alerts/<int:pk>/": "alert",
    "alerts/<int:pk>/act/": "alert",
    "alerts/trusts/<int:pk>/revoke/": "trust",
    # One's own sign-in ("This wasn't me"): Acme's own id is the actor's own sign-in.
    "alerts/report/signin/<int:pk>/": "own_signin_event",
    "retention/holds/<int:pk>/extend/": "legal_hold",
    "retention/holds/<int:pk>/lift/": "legal_hold",
    "notifications/webhooks/<int:pk>/": "webhook_endpoint",
    "notifications/webhooks/<int:pk>/deliveries/": "webhook_endpoint",
    "notifications/webhooks/<int:pk>/test/": "webhook_endpoint",
    "notifications/webhooks/<int:pk>/rotate-secret/": "webhook_endpoint",
    "notifications/webhooks/<int:pk>/disable/": "webhook_endpoint",
    "notifications/webhooks/<int:pk>/delete/": "webhook_endpoint",  # last: it deletes Acme's own
    "people/import/<int:pk>/": "import_job",
    "people/import/<int:pk>/apply/": "import_job",
    "people/import/<int:pk>/discard/": "import_job",  # after apply: it discards Acme's own
}
# Routes whose parameter is a secret, not an id: checked below (unknown token → 410, never 500).
# A reset link's id only finds its row; the token decides (tests/security/recovery: another
# tenant's id or a wrong token is the one "link no longer valid" page).
TOKEN_ROUTES = {"invitation/<str:token>/", "alerts/report/<str:token>/",
                "signin/reset/<int:reset_id>/<str:token>/"}
# What the POST carries, where the view reads something: a leak would then really change data.
POST_DATA = {
    "people/<int:pk>/role/": {"role": Role.ADMIN},
    "people/<int:pk>/offboard/": {"reason": "walk"},
    "people/<int:pk>/mail/": {"mail_protocols": "off"},
    "retention/holds/<int:pk>/extend/": {
        "ends_on": (timezone.now() + timedelta(days=400)).date().isoformat()},
    "notifications/webhooks/<int:pk>/": {"url": "https://203.0.113.10/changed",
                                         "description": "changed", "event_types": ["alert.opened"]},
}


def parameterised_routes() -> dict[str, object]:
    return {route: capability_of(pattern) for route, pattern in console_routes() if "<" in route}


def test_every_parameterised_route_is_walked():
    routes = set(parameterised_routes())
    assert routes - set(ROUTE_KINDS) - TOKEN_ROUTES == set(), "routes the walk does not know"
    assert (set(ROUTE_KINDS) | TOKEN_ROUTES) - routes == set(), "walked routes that are gone"
    assert set(ROUTE_KINDS) & TOKEN_ROUTES == set()


# --- The two tenants' objects ---------------------------------------------------------------------


@dataclass
class Objects:
    person: User
    suspended_person: User
    locked_person: User
    invited_person: User
    scheduled_person: User
    offboarded_person: User
    signin_event: LoginEvent
    session: UserSession
    alert: Alert
    trust: Trust
    legal_hold: LegalHold
    webhook_endpoint: WebhookEndpoint
    mail_client_password: MailClientPassword
    import_job: ImportJob
    passkey: WebAuthnCredential


LOCK_ATTEMPTS = 5  # the default lockout limit


def _import_job(tenant_set, domain: str) -> ImportJob:
    """A previewed import that would invite someone, suspend the member and rename the admin."""
    text = (f"email,name,action\nwalk.new@{domain},Walk New,\nmember@{domain},,suspend\n"
            f"admin@{domain},Renamed,\n")
    return previewed(tenant_set.tenant, tenant_set.owner, text)


def _lock(person: User, make_client) -> None:
    for _ in range(LOCK_ATTEMPTS):
        post_signin(make_client(), person.email, "wrong-password")
    assert AccessAttempt.objects.filter(username=person.email).exists()


def _objects(tenant_set, make_client) -> Objects:
    tenant = tenant_set.tenant
    domain = tenant_set.owner.email.split("@")[1]
    person = UserFactory(tenant=tenant, role=Role.MEMBER, email=f"target@{domain}")
    client = make_client()
    assert post_signin(client, person.email, PASSWORD).status_code == 302
    enroll(person, name=f"{tenant.name} target phone")  # after signing in: no MFA challenge
    suspended = UserFactory(tenant=tenant, role=Role.MEMBER, email=f"away@{domain}",
                            status=User.Status.SUSPENDED)
    locked = UserFactory(tenant=tenant, role=Role.MEMBER, email=f"locked@{domain}")
    _lock(locked, make_client)
    invited = person_invite(tenant=tenant, actor=tenant_set.owner, email=f"new@{domain}",
                            display_name="New", role=Role.MEMBER).invitation.user
    scheduled = UserFactory(tenant=tenant, role=Role.MEMBER, email=f"leaving@{domain}")
    person_offboard(tenant=tenant, actor=tenant_set.owner, person=scheduled, reason="walk",
                    effective_at=timezone.now() + timedelta(days=7))
    offboarded = UserFactory(tenant=tenant, role=Role.MEMBER, email=f"gone@{domain}")
    person_offboard(tenant=tenant, actor=tenant_set.owner, person=offboarded, reason="walk")
    now = timezone.now()
    alert = Alert.objects.create(tenant=tenant, rule="new_country", severity="medium", user=person,
                                 dedup_key=f"walk:{person.pk}", first_seen=now, last_seen=now,
                                 count=1)
    trust = Trust.objects.create(tenant=tenant, user=person, kind="country", value="DE")
    return Objects(
        person=person, suspended_person=suspended, locked_person=locked, invited_person=invited,
        scheduled_person=scheduled, offboarded_person=offboarded,
        signin_event=LoginEvent.objects.for_tenant(tenant).filter(user=person).latest("pk"),
        session=UserSession.objects.for_tenant(tenant).get(user=person),
        alert=alert, trust=trust,
        legal_hold=LegalHold.objects.create(tenant=tenant, person=person, reason="walk",
                                            ends_on=(now + timedelta(days=30)).date()),
        # A documentation address: a test event sent to it is refused at delivery, never sent.
        webhook_endpoint=WebhookEndpoint.objects.create(
            tenant=tenant, url="https://203.0.113.10/hook", secret="walk-secret-" + "x" * 20,
            event_types=["alert.opened"]),
        mail_client_password=mail_client_password_create(user=person, name="Walk phone")[0],
        import_job=_import_job(tenant_set, domain),
        passkey=_passkey(person),
    )


def _passkey(person: User) -> WebAuthnCredential:
    """A passkey row (the ceremonies are tests/accounts/passkeys'); only its id is walked."""
    return WebAuthnCredential.objects.create(
        user=person, name="walk key", confirmed=True, credential_id=secrets.token_bytes(16),
        public_key=b"walk", credential_id_sha256=secrets.token_hex(32))


def tenant_snapshot(tenant: Tenant) -> dict[str, object]:
    """Everything a request could change about a tenant's people, devices, sessions, lockouts."""
    emails = list(User.objects.for_tenant(tenant).values_list("email", flat=True))
    return {
        "people": list(User.objects.for_tenant(tenant).order_by("pk").values()),
        "invitations": list(Invitation.objects.for_tenant(tenant).order_by("pk").values()),
        "totp": list(EncryptedTOTPDevice.objects.for_tenant(tenant).order_by("pk")
                     .values_list("pk", "user_id", "name", "confirmed")),
        "backup_devices": list(BackupCodeDevice.objects.for_tenant(tenant).values_list("pk")),
        "backup_codes": BackupCode.objects.for_tenant(tenant).count(),
        "sessions": list(UserSession.objects.for_tenant(tenant).order_by("pk")
                         .values_list("pk", "session_key")),
        "lockouts": sorted(AccessAttempt.objects.filter(username__in=emails)
                           .values_list("username", "failures_since_start")),
        "signin_events": LoginEvent.objects.for_tenant(tenant).count(),
        # A refused request writes no audit entry, in either tenant.
        "audit_entries": AuditLogEntry.objects.count(),
        "alerts": list(Alert.objects.for_tenant(tenant).order_by("pk")
                       .values_list("pk", "status", "assignee_id", "count")),
        "trusts": list(Trust.objects.for_tenant(tenant).order_by("pk")
                       .values_list("pk", "revoked_at")),
        "legal_holds": list(LegalHold.objects.for_tenant(tenant).order_by("pk")
                            .values_list("pk", "ends_on", "lifted_at")),
        "webhooks": list(WebhookEndpoint.objects.for_tenant(tenant).order_by("pk")
                         .values_list("pk", "url", "description", "active", "secret_rotated_at")),
        "webhook_deliveries": WebhookDelivery.objects.for_tenant(tenant).count(),
        "mail_client_passwords": list(MailClientPassword.objects.for_tenant(tenant).order_by("pk")
                                      .values_list("pk", "revoked_at")),
        "imports": list(ImportJob.objects.for_tenant(tenant).order_by("pk")
                        .values_list("pk", "status", "mode", "applied_by_id")),
        "passkeys": list(WebAuthnCredential.objects.filter(user__tenant=tenant).order_by("pk")
                         .values_list("pk", "user_id", "name")),
    }


@pytest.fixture
def world(two_tenants, make_client):
    return {"a": _objects(two_tenants.a, make_client), "b": _objects(two_tenants.b, make_client)}


def _id(objects: Objects, kind: str, *, own_device: EncryptedTOTPDevice | None,
        actor: User | None = None) -> int:
    if kind == "own_signin_event":
        if actor is None:  # the other tenant's: a sign-in of their person
            return objects.signin_event.pk
        return LoginEvent.objects.for_tenant(actor.tenant).filter(user=actor).latest("pk").pk
    if kind == "mail_client_password" and actor is not None:  # Acme's own: the actor's, fresh
        return mail_client_password_create(user=actor, name=f"walk {MailClientPassword.objects.count()}")[0].pk
    if kind == "passkey" and actor is not None:  # Acme's own: a fresh one of the actor's
        return _passkey(actor).pk
    if kind == "mfa_device":
        if own_device is not None:
            return own_device.pk
        return EncryptedTOTPDevice.objects.get(user=objects.person).pk
    return getattr(objects, kind).pk


def _url(route: str, pk: int) -> str:
    return "/" + route.replace("<int:pk>", str(pk))


def _request(client, method: str, route: str, pk: int):
    url = _url(route, pk)
    if method == "GET":
        return client.get(url)
    return client.post(url, POST_DATA.get(route, {}))


# --- The walk -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", Role.values)
def test_another_tenants_ids_answer_like_missing_ids_and_change_nothing(
        role, two_tenants, world, make_client):
    routes = parameterised_routes()
    actor = two_tenants.a.by_role(role)
    client = make_client()
    assert post_signin(client, actor.email, PASSWORD).status_code == 302
    own_device, _secret = enroll(actor, name=f"{role}'s phone")
    # MFA changes need a fresh confirmation; without it every id would get the same redirect.
    assert client.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302
    b, tenant_b = world["b"], two_tenants.b.tenant
    before = tenant_snapshot(tenant_b)
    leaks, refused_own = [], []
    for route, kind in ROUTE_KINDS.items():
        may = routes[route] in ROLE_CAPABILITIES[role]
        for method in ("GET", "POST"):
            other = _request(client, method, route, _id(b, kind, own_device=None)).status_code
            missing = _request(client, method, route, MISSING_ID).status_code
            if other != missing or other not in (403, 404, 405) or (may and other == 403):
                leaks.append((method, route, f"Globex id {other}, missing id {missing}"))
            after = tenant_snapshot(tenant_b)
            if after != before:
                changed = [key for key in before if before[key] != after[key]]
                leaks.append((method, route, f"changed Globex's {changed}"))
                before = after
    # The same routes with Acme's own ids: a role with the capability gets through, so the 404s
    # above are the tenant check and not a route that refuses everybody.
    for route, kind in ROUTE_KINDS.items():
        if routes[route] not in ROLE_CAPABILITIES[role]:
            continue
        statuses = {method: _request(client, method, route,
                                     _id(world["a"], kind, own_device=own_device,
                                         actor=actor)).status_code
                    for method in ("GET", "POST")}
        if any(status in (403, 404) or status >= 500 for status in statuses.values()) or set(
                statuses.values()) == {405}:
            refused_own.append((route, statuses))
    assert leaks == [], leaks
    assert refused_own == [], refused_own


def test_every_walked_route_is_open_to_some_role():
    """Guards the walk itself: a route nobody may open would pass it by refusing everyone."""
    routes = parameterised_routes()
    for route in ROUTE_KINDS:
        assert any(routes[route] in caps for caps in ROLE_CAPABILITIES.values()), route
    assert any(routes[r] not in ROLE_CAPABILITIES[Role.MEMBER] for r in ROUTE_KINDS)


# --- Ids in a form body ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", Role.values)
def test_ending_another_tenants_session_by_id_ends_nothing(role, two_tenants, world, make_client):
    actor = two_tenants.a.by_role(role)
    client, laptop = make_client(), make_client()
    assert post_signin(laptop, actor.email, PASSWORD).status_code == 302
    assert post_signin(client, actor.email, PASSWORD).status_code == 302
    tenant_b = two_tenants.b.tenant
    before = tenant_snapshot(tenant_b)
    response = client.post("/me/sessions/", {"session": world["b"].session.pk}, follow=True)
    assert response.status_code == 200
    assert "does not exist" in response.content.decode()
    assert tenant_snapshot(tenant_b) == before
    # Their own other session ends through the same form: the refusal above is the tenant check.
    own = UserSession.objects.for_tenant(two_tenants.a.tenant).filter(user=actor).order_by("pk")[0]
    response = client.post("/me/sessions/", {"session": own.pk})
    assert response.status_code == 302
    assert not UserSession.objects.filter(pk=own.pk).exists()
    assert laptop.get("/me/").status_code == 302  # that device must sign in again


# --- Ids in a query string -------------------------------------------------------------------------

FILTER_URLS = [
    ("/logs/signins/", "person"), ("/logs/signins/export/", "person"),
    ("/logs/exports/", "person"), ("/logs/exports/export/", "person"),
    ("/logs/audit/", "actor"), ("/logs/audit/export/", "actor"),
]


@pytest.mark.parametrize(("url", "param"), FILTER_URLS)
def test_filtering_a_log_on_another_tenants_person_shows_nothing_of_theirs(
        url, param, two_tenants, world, make_client):
    b = two_tenants.b
    globex = world["b"].person  # signed in, so on Globex's sign-in log; invited by Globex's owner
    ExportEvent.objects.create(tenant=b.tenant, user=globex, dataset="signins", format="csv",
                               ip="198.51.100.5")
    for actor in (globex, b.owner):
        audit_entry_record(obj=globex, actor=actor, changes={"display_name": ["", "changed"]})
    # Rows show names, not always addresses: make every Globex name say so.
    for person in User.objects.for_tenant(b.tenant):
        User.objects.filter(pk=person.pk).update(display_name=f"Globex person {person.pk}")
    row_ids = [*(f'data-event="{pk}"' for pk in LoginEvent.objects.for_tenant(b.tenant)
                 .values_list("pk", flat=True)),
               *(f'data-event="{pk}"' for pk in ExportEvent.objects.for_tenant(b.tenant)
                 .values_list("pk", flat=True)),
               *(f'data-entry="{pk}"' for pk in AuditLogEntry.objects.filter(tenant=b.tenant)
                 .values_list("pk", flat=True))]
    client = make_client()
    assert post_signin(client, two_tenants.a.auditor.email, PASSWORD).status_code == 302
    for who in (globex.pk, b.owner.pk):
        query = {param: who, **({"format": "csv"} if "/export/" in url else {})}
        response = client.get(url, query)
        assert response.status_code == 200, (url, who)
        content = (b"".join(response.streaming_content) if response.streaming
                   else response.content).decode()
        assert "globex" not in content.lower(), (url, who)
        assert not [row for row in row_ids if row in content], (url, who)


# --- Token routes ---------------------------------------------------------------------------------

UNKNOWN_TOKENS = ["x", "0" * 43, "A" * 129, "x" * 5000, "%00", "..", "%2e%2e", "%E2%80%AE",
                  "%F0%9F%92%A9", "'%3B--", "%3Cscript%3E"]


@pytest.mark.parametrize("role", [None, *Role.values])
def test_unknown_or_replaced_invitation_tokens_are_gone_never_500(role, two_tenants, make_client):
    client = make_client()
    if role is not None:
        assert post_signin(client, two_tenants.a.by_role(role).email, PASSWORD).status_code == 302
    b = two_tenants.b
    first = person_invite(tenant=b.tenant, actor=b.owner, email="new@globex.example",
                          display_name="", role=Role.MEMBER)
    latest = invitation_resend(tenant=b.tenant, actor=b.owner, person=first.invitation.user)
    before = tenant_snapshot(b.tenant)
    for token in [*UNKNOWN_TOKENS, first.token]:
        for method in ("GET", "POST"):
            url = f"/invitation/{token}/"
            response = (client.get(url) if method == "GET" else client.post(url, {
                "password1": "Another-long-passphrase-7", "password2": "Another-long-passphrase-7",
                "display_name": "Mallory"}))
            assert response.status_code in (404, 410), (method, token, response.status_code)
    assert tenant_snapshot(b.tenant) == before
    # The check is the token, not a page that is always gone: the latest link opens.
    assert client.get(f"/invitation/{latest.token}/").status_code == 200
