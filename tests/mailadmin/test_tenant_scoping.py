"""Every query of tenant data names its tenant, or is on a short, reasoned list of exceptions.

An AST scan of the product code: a chain that starts at ``<Model>.objects`` or
``<Model>._default_manager`` of a model holding tenant data must contain ``.for_tenant(…)``, or a
``tenant=`` / ``tenant_id=`` / ``tenant__…=`` keyword in a ``filter``/``get``/``create``-like call,
or be passed to ``get_for_tenant_or_404``. Everything else is reported by the module-qualified
name of the function it is in, and must be on ``ALLOWLIST`` with the reason it is legitimate.
An entry that no longer matches anything fails too, so the list cannot silently rot.

Two more rules keep the list about real decisions rather than noise:

- ``pk=obj.pk`` (or ``id=obj.id``) re-reads a row the code already holds, which an earlier,
  scanned query fetched; it is not a way in for another tenant's id.
- A manager reached through a name the scan cannot resolve (``model._default_manager`` of a
  parameter, ``self.model.objects``) counts as tenant data: it must be scoped or listed.
"""

from __future__ import annotations

import ast
import importlib
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.apps import apps
from django.db import models

from tenants.models import Tenant, TenantOwned

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_APPS = ["tenants", "accounts", "notifications", "activity", "security", "alerts",
                "retention", "people", "me", "mailadmin"]
SKIPPED_DIRS = {"tests", "migrations", "bench", "__pycache__"}

MANAGERS = {"objects", "_default_manager"}
# Calls whose tenant keyword scopes the whole chain (exclude(tenant=…) does the opposite);
# for bulk_create, the keyword of the rows built in its argument.
SCOPING_CALLS = {"filter", "get", "create", "get_or_create", "update_or_create", "bulk_create"}
SCOPING_HELPERS = {"get_for_tenant_or_404"}

# Each entry: a function that queries tenant data without naming the tenant, and why that is
# right. Keep it short; a new entry needs the same scrutiny as the code it excuses.
ALLOWLIST: dict[str, str] = {
    # --- Sign-in: the person is found by their address, before any tenant is known. --------------
    "security.signin.pipeline._signin_user":
        "sign-in finds the person by e-mail (unique platform-wide); the tenant comes from them",
    "security.signin.pipeline.tenant_for_login":
        "an unknown address's attempt is logged under the tenant owning its mail domain",
    "security.mailauth.selectors._orm_people":
        "a mail client's sign-in (Dovecot's policy request) finds the person by e-mail, or the "
        "tenant by the address's mail domain, before any tenant is known, as the web sign-in",
    "security.signin.pending.pending_get":
        "the pending sign-in's user id comes from the server-side session, not from the request",
    # --- Token and key look-ups: the secret names the row, and through it the tenant. ------------
    "people.services.invitation_get_valid":
        "an invitation is found by the SHA-256 of its token (unique); the tenant comes from it",
    "security.recovery.services.password_reset_get_valid":
        "a reset link names its row by id and proves it by its token's SHA-256; the tenant comes from it",
    "security.recovery.services.password_reset_request":
        "'Forgot password?' finds the person by e-mail (unique platform-wide), or the tenant by the "
        "address's mail domain for its audit entry, before any tenant is known, as the sign-in",
    "security.sessions.store.SessionStore.save":
        "Django's own session row (a model resolved at run time), by its unguessable key",
    "security.sessions.services.user_session_forget":
        "the index row of this request's own session key (sign-out), issued by the server",
    "security.sessions.services.user_session_rekey":
        "follows this request's own session key when Django rotates it",
    "security.sessions.services.user_sessions_end_all":
        "deletes by the session keys just read from the person's own, tenant-scoped rows",
    # --- Rows of one person in hand, keyed by that person (one-to-one with them). ----------------
    "security.policies.password.services.password_record_change":
        "the person's own PasswordState (one per person) and history rows just read scoped",
    "security.policies.password.services.password_signin_compliance":
        "get_or_create of the signing-in person's own PasswordState (one per person)",
    "activity.services.audit_entry_record":
        "AuditLogEntryManager.log_create takes the entry's tenant from the object it records",
    # --- Platform-wide, by design. ---------------------------------------------------------------
    "people.offboarding.services.offboardings_due_carry_out":
        "the beat task's sweep over every tenant's due offboardings; each is then carried out "
        "inside its own tenant",
    "accounts.mfa.selectors._passkeys":
        "django-otp-webauthn's credential model has no tenant column: it is scoped by its "
        "people's tenant (user__tenant)",
    "people.imports.services._Judge.batch":
        "an import's address on the tenant's domain held by another company's account (addresses "
        "are unique platform-wide, as person_invite checks); only the addresses are read",
    "people.services.person_invite":
        "an address is unique across the platform, so the duplicate check spans every tenant",
    "people.services.mail_domain_add":
        "a mail domain belongs to one tenant on the platform: the check spans every tenant",
    "security.signin.lockout.locked_accounts_list":
        "axes' table is platform-wide, keyed by e-mail; scoped by a subquery of this tenant's people",
    "notifications.delivery._claim":
        "the outbox worker claims due rows of every tenant (SKIP LOCKED); each is sent as its own",
    "notifications.delivery._endpoints_attach":
        "the endpoints of the deliveries just claimed, by those deliveries' own endpoint ids",
    "security.policies.password.reminders.password_expiry_reminders_send":
        "the beat task loops over every tenant with expiry on; each tenant's people are scoped",
    # --- The retention sweep: a beat task over every tenant (no request, no tenant input). --------
    "retention.due.due_querysets":
        "axes' tables are platform-wide, keyed by address: scoped by this tenant's mail domains",
    "retention.due.platform_querysets":
        "rows of no tenant: lockout rows on no tenant's domain, platform audit entries, sessions",
    "retention.purge._droppable":
        "the roll-up marks of exactly the tenants found in the partition about to be dropped",
    "retention.rollup.activity_counts":
        "aggregates the tenants its caller names (tenant_ids): one for reports, a day's for the sweep",
    "retention.services.legal_holds_expire":
        "the sweep lifts every tenant's expired holds, each audited under its own tenant",
    "retention.sweep.Sweep._roll_up_days":
        "marks and counts of the (tenant, day) pairs the sweep planned from tenant-scoped queries",
    # --- Operator commands (no request, no tenant input). -----------------------------------------
    "people.demo.demo_seed":
        "seed_demo creates its fixed demo tenants and people by their fixed addresses",
    "activity.management.synthetic.tenants_create":
        "generate_activity creates its own synthetic tenants' mail domains",
    "activity.management.synthetic._people_ensure":
        "generate_activity bulk-inserts people built with the tenant set",
    "activity.management.synthetic.activity_generate":
        "generate_activity bulk-inserts events built with the tenant set",
}


# --- The scanner ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    where: str  # module-qualified function name
    line: int
    code: str

    def __str__(self) -> str:
        return f"{self.where} (line {self.line}): {self.code}"


def tenant_data_models() -> set[type[models.Model]]:
    """TenantOwned subclasses, every other model with a ``tenant`` key to Tenant (accounts.User,
    activity.AuditLogEntry), and axes' tables, which hold tenant people's attempts by e-mail."""
    found: set[type[models.Model]] = set()
    for model in apps.get_models():
        if model is Tenant:
            continue
        if issubclass(model, TenantOwned):
            found.add(model)
            continue
        field = next((f for f in model._meta.get_fields() if f.name == "tenant"), None)
        if field is not None and getattr(field, "related_model", None) is Tenant:
            found.add(model)
    for label in ("axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"):
        found.add(apps.get_model(label))
    return found


def _static_imports(tree: ast.AST) -> dict[str, tuple[str, str]]:
    """Names bound by ``from X import Y [as Z]`` anywhere in the file (function-level too)."""
    bound: dict[str, tuple[str, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                bound[alias.asname or alias.name] = (node.module, alias.name)
    return bound


_UNRESOLVED = object()


class _Resolver:
    """What a name in a module refers to: the imported module's globals, else its static imports."""

    def __init__(self, tree: ast.AST, module: ModuleType | None) -> None:
        self.namespace: dict[str, Any] = dict(vars(module)) if module is not None else {}
        self.imports = _static_imports(tree)

    def resolve(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Name):
            if node.id in self.namespace:
                return self.namespace[node.id]
            if node.id in self.imports:
                module_name, attr = self.imports[node.id]
                try:
                    return getattr(importlib.import_module(module_name), attr)
                except (ImportError, AttributeError):
                    return _UNRESOLVED
            return _UNRESOLVED
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return _UNRESOLVED if base is _UNRESOLVED else getattr(base, node.attr, _UNRESOLVED)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "get_user_model"):
            return apps.get_model("accounts.User")
        return _UNRESOLVED


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


def _is_tenant_keyword(name: str | None) -> bool:
    if name is None:
        return False
    return name in {"tenant", "tenant_id"} or (
        name.startswith("tenant__") and not name.endswith("__isnull"))


def _is_row_in_hand(keyword: ast.keyword) -> bool:
    """``pk=obj.pk``: the row is one the code already fetched (through a scanned query)."""
    return (keyword.arg in {"pk", "id"} and isinstance(keyword.value, ast.Attribute)
            and keyword.value.attr in {"pk", "id"})


def _call_scopes(call: ast.Call) -> bool:
    keywords = list(call.keywords)
    for arg in call.args:  # Q(tenant=…) objects inside filter()
        keywords += [kw for sub in ast.walk(arg) if isinstance(sub, ast.Call) for kw in sub.keywords]
    return any(_is_tenant_keyword(kw.arg) or _is_row_in_hand(kw) for kw in keywords)


def _chain_is_scoped(start: ast.AST, parents: dict[ast.AST, ast.AST], *, hops: int = 2) -> bool:
    node = start
    while True:
        parent = parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            node = parent
            continue
        if isinstance(parent, ast.Call) and parent.func is node:
            method = node.attr if isinstance(node, ast.Attribute) else None
            if method == "for_tenant":
                return True
            if method in SCOPING_CALLS and _call_scopes(parent):
                return True
            node = parent
            continue
        break
    # The chain ends here: is it handed to the helper that scopes it?
    if isinstance(parent, ast.Call) and node in parent.args:
        func = parent.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        return name in SCOPING_HELPERS
    # ``rows = Model.objects…`` then ``rows.filter(tenant=…)`` or ``get_for_tenant_or_404(rows, …)``
    # in the same function: follow the variable (a hop or two, no further).
    if hops and isinstance(parent, ast.Assign | ast.AnnAssign) and parent.value is node:
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            return any(_chain_is_scoped(use, parents, hops=hops - 1)
                       for use in _later_uses(targets[0], parents))
    return False


def _later_uses(target: ast.Name, parents: dict[ast.AST, ast.AST]) -> list[ast.Name]:
    scope = parents.get(target)
    while scope is not None and not isinstance(
            scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
        scope = parents.get(scope)
    if scope is None:
        return []
    return [node for node in ast.walk(scope)
            if isinstance(node, ast.Name) and node.id == target.id
            and isinstance(node.ctx, ast.Load) and node.lineno >= target.lineno]


def _qualname(node: ast.AST, parents: dict[ast.AST, ast.AST], module_name: str) -> str:
    names = []
    current = parents.get(node)
    while current is not None:
        if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(current.name)
        current = parents.get(current)
    return ".".join([module_name, *reversed(names)])


def scan_source(source: str, module_name: str, *, module: ModuleType | None = None,
                tenant_models: set[type[models.Model]] | None = None) -> list[Hit]:
    """Every query of tenant data in ``source`` that does not name its tenant."""
    tenant_models = tenant_data_models() if tenant_models is None else tenant_models
    tree = ast.parse(source)
    parents = _parents(tree)
    resolver = _Resolver(tree, module)
    hits = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr in MANAGERS
                and isinstance(node.ctx, ast.Load)):
            continue
        target = resolver.resolve(node.value)
        if target is not _UNRESOLVED:
            if not (isinstance(target, type) and issubclass(target, models.Model)):
                continue  # not a model (a module, a non-Django object)
            if target not in tenant_models:
                continue
        if _chain_is_scoped(node, parents):
            continue
        hits.append(Hit(_qualname(node, parents, module_name), node.lineno,
                        ast.get_source_segment(source, node.value) + "." + node.attr))
    return sorted(hits, key=lambda hit: hit.line)


def product_modules() -> list[tuple[str, Path]]:
    found = []
    for app in PRODUCT_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if SKIPPED_DIRS & set(path.relative_to(ROOT).parts):
                continue
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((dotted.removesuffix(".__init__"), path))
    return found


def scan_product() -> list[Hit]:
    tenant_models = tenant_data_models()
    hits = []
    for dotted, path in product_modules():
        try:
            module = importlib.import_module(dotted)
        except Exception:  # a module that cannot load here (none today) is still scanned
            module = None
        hits += scan_source(path.read_text(), dotted, module=module, tenant_models=tenant_models)
    return hits


def allowlist_problems(hits: list[Hit], allowlist: dict[str, str]) -> tuple[list[str], list[str]]:
    """(hits outside the allowlist, allowlist entries that match nothing)."""
    unlisted = [str(hit) for hit in hits if hit.where not in allowlist]
    matched = {hit.where for hit in hits}
    stale = [entry for entry in allowlist if entry not in matched]
    return unlisted, stale


# --- The rule on the product -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def product_hits() -> list[Hit]:
    return scan_product()


def test_every_query_of_tenant_data_names_its_tenant(product_hits):
    unlisted, _stale = allowlist_problems(product_hits, ALLOWLIST)
    assert unlisted == [], (
        "queries of tenant data without a tenant filter (scope them with .for_tenant(tenant) or "
        "get_for_tenant_or_404, or add the function to ALLOWLIST with its reason):\n"
        + "\n".join(unlisted))


def test_the_allowlist_has_no_stale_entries(product_hits):
    _unlisted, stale = allowlist_problems(product_hits, ALLOWLIST)
    assert stale == [], f"ALLOWLIST entries that match no unscoped query any more: {stale}"


def test_every_allowlist_entry_gives_a_reason():
    assert all(reason.strip() for reason in ALLOWLIST.values())


def test_the_scan_covers_every_product_app():
    scanned = {dotted.split(".")[0] for dotted, _path in product_modules()}
    assert scanned == set(PRODUCT_APPS)
    modules = {dotted for dotted, _path in product_modules()}
    assert "people.services" in modules and "accounts.mfa.services" in modules
    assert not any(".migrations." in m or ".tests." in m for m in modules)


def test_the_scan_knows_the_tenant_data_models():
    labels = {m._meta.label for m in tenant_data_models()}
    assert {"accounts.User", "tenants.Invitation", "tenants.MailDomain", "activity.LoginEvent",
            "activity.AuditLogEntry", "security.UserSession", "accounts.EncryptedTOTPDevice",
            "axes.AccessAttempt"} <= labels
    assert "tenants.Tenant" not in labels


# --- The scanner can fail ----------------------------------------------------------------------------


def _scan(snippet: str) -> list[Hit]:
    return scan_source(textwrap.dedent(snippet), "snippet")


def test_the_scanner_reports_an_unscoped_query():
    hits = _scan("""
        from tenants.models import Invitation
        from accounts.models import User as Person

        def invitation_revoke(*, pk):
            return Invitation.objects.select_related("user").get(pk=pk)

        class PeopleView:
            def get_queryset(self):
                return Person.objects.filter(status="active").order_by("email")

        def leak_through_the_default_manager(pk):
            from activity.models import LoginEvent
            return LoginEvent._default_manager.exclude(tenant=None).filter(pk=pk)
    """)
    assert [(hit.where, hit.code) for hit in hits] == [
        ("snippet.invitation_revoke", "Invitation.objects"),
        ("snippet.PeopleView.get_queryset", "Person.objects"),
        ("snippet.leak_through_the_default_manager", "LoginEvent._default_manager"),
    ]


def test_the_scanner_treats_a_manager_it_cannot_resolve_as_tenant_data():
    hits = _scan("""
        def first_row(model, pk):
            return model._default_manager.get(pk=pk)
    """)
    assert [hit.where for hit in hits] == ["snippet.first_row"]


def test_the_scanner_accepts_each_way_of_naming_the_tenant():
    assert _scan("""
        from django.db.models import Q
        from accounts.models import User
        from tenants.access import get_for_tenant_or_404
        from tenants.models import Invitation, Tenant

        def a(tenant, pk):
            return User.objects.for_tenant(tenant).get(pk=pk)

        def b(tenant, pk):
            return get_for_tenant_or_404(User.objects.select_related("tenant"), tenant=tenant, pk=pk)

        def c(user):
            return Invitation.objects.filter(tenant_id=user.tenant_id, user=user).first()

        def d(domain):
            return User.objects.filter(tenant__maildomain__domain=domain).count()

        def e(tenant):
            return User.objects.filter(Q(tenant=tenant) & Q(role="owner")).exists()

        def f(user):
            return User.objects.filter(pk=user.pk).update(last_login=None)

        def g():
            return Tenant.objects.all()  # not tenant data
    """) == []


def test_the_scanner_does_not_take_a_look_alike_for_a_tenant_filter():
    hits = _scan("""
        from accounts.models import User

        def a():
            return User.objects.exclude(tenant=None)

        def b():
            return User.objects.filter(tenant__isnull=False)

        def c(pk):
            return User.objects.filter(pk=pk).order_by("tenant")

        def d(request):
            return User.objects.get(pk=request.POST["pk"])
    """)
    assert [hit.where for hit in hits] == ["snippet.a", "snippet.b", "snippet.c", "snippet.d"]


def test_unlisted_and_stale_entries_are_both_reported():
    hits = [Hit("people.views.leak", 3, "User.objects"), Hit("security.signin._signin_user", 9,
                                                             "User.objects")]
    unlisted, stale = allowlist_problems(hits, {"security.signin._signin_user": "by e-mail",
                                                "security.signin.gone": "moved away"})
    assert unlisted == ["people.views.leak (line 3): User.objects"]
    assert stale == ["security.signin.gone"]
