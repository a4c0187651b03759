"""Structural rules that keep tenancy and access control from eroding as the code grows."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps

from tenants.access import OPERATOR, PUBLIC
from tenants.models import Tenant, TenantOwned
from tenants.roles import ROLE_CAPABILITIES, Cap, Role
from tests.urlwalk import capability_of, console_routes

TENANT_APPS = ["tenants", "accounts", "notifications", "security", "activity", "alerts", "retention",
               "people", "me"]


def test_every_view_declares_itscapability_of():
    missing = [route for route, pattern in console_routes() if capability_of(pattern) is None]
    assert missing == [], f"views without a declared capability: {missing}"


def test_every_capability_is_decided_for_every_role():
    for route, pattern in console_routes():
        cap = capability_of(pattern)
        assert cap in (PUBLIC, OPERATOR) or isinstance(cap, Cap), route
    for role in Role.values:
        assert role in ROLE_CAPABILITIES
    assert all(isinstance(cap, Cap) for caps in ROLE_CAPABILITIES.values() for cap in caps)


@pytest.mark.django_db
def test_each_role_gets_exactly_what_its_capabilities_allow(two_tenants, signed_in, make_client):
    """GET every parameterless console URL as every role: 403 exactly when the role lacks it."""
    routes = [(route, capability_of(p)) for route, p in console_routes()
              if "<" not in route and isinstance(capability_of(p), Cap)]
    assert len(routes) >= 4
    for role in Role.values:
        client = make_client()
        client.post("/signin/", {"email": two_tenants.a.by_role(role).email,
                                 "password": "Correct-horse-battery-9"})
        for route, cap in routes:
            status = client.get("/" + route).status_code
            if cap in ROLE_CAPABILITIES[role]:
                assert status != 403, (role, route, status)
            else:
                assert status == 403, (role, route, status)


# Operator-level models of the tenant apps: platform-wide rows no tenant sees (each tenant's
# share of them lives in a TenantOwned model beside it).
OPERATOR_MODELS = {
    "retention.SweepRun": "one nightly sweep over every tenant; each tenant's part is its "
                          "SweepReceipt (TenantOwned)",
    "security.PasswordResetThrottle": "password recovery's rate-limit counts per address and per IP, "
                                      "like axes' attempts: an IP or an address on no tenant's "
                                      "domain belongs to no tenant; keyed digests, kept a day",
}


def _tenant_models():
    for label in TENANT_APPS:
        yield from (model for model in apps.get_app_config(label).get_models()
                    if model._meta.label not in OPERATOR_MODELS)


# Models of the tenant apps that hold tenant data without inheriting TenantOwned. Each still has a
# ``tenant`` key to Tenant on PROTECT (checked below); only its nullability differs, for a reason.
NOT_TENANT_OWNED = {
    "tenants.Tenant": "the tenant itself",
    "accounts.User": "operators (superusers) have no tenant; a check constraint requires one for "
                     "everybody else",
    "activity.AuditLogEntry": "django-auditlog's entry model; the tenant is null only for "
                              "platform-level objects (an operator's change to a tenant)",
}


def tenant_ownership_offenders(candidates) -> list[str]:
    """Every model is tenant data: it inherits TenantOwned, whose tenant key is non-null, on
    PROTECT (a tenant with data is suspended, never cascaded away) and readable through
    ``.for_tenant``, even where a model redeclares the field (the record tables do)."""
    offenders = []
    for model in candidates:
        label = model._meta.label
        if label == "tenants.Tenant":
            continue
        field = next((f for f in model._meta.get_fields() if f.name == "tenant"), None)
        if field is None or getattr(field, "related_model", None) is not Tenant:
            offenders.append(f"{label}: no tenant key")
            continue
        if field.remote_field.on_delete is not models.PROTECT:
            offenders.append(f"{label}: tenant is not on_delete=PROTECT")
        if label in NOT_TENANT_OWNED:
            continue
        if not issubclass(model, TenantOwned):
            offenders.append(f"{label}: does not inherit TenantOwned")
        if field.null:
            offenders.append(f"{label}: tenant is nullable")
        if not hasattr(model._default_manager, "for_tenant"):
            offenders.append(f"{label}: its default manager has no for_tenant()")
    return offenders


def test_tenant_data_inherits_tenant_owned():
    offenders = tenant_ownership_offenders(_tenant_models())
    assert offenders == [], f"tenant data outside TenantOwned: {offenders}"


def test_the_exceptions_to_tenant_owned_are_still_there():
    labels = {model._meta.label for model in _tenant_models()}
    assert set(NOT_TENANT_OWNED) <= labels, set(NOT_TENANT_OWNED) - labels
    assert not any(issubclass(apps.get_model(label), TenantOwned) for label in NOT_TENANT_OWNED)


@isolate_apps("security")
def test_tenant_ownership_check_reports_each_way_of_getting_it_wrong():
    class Owned(TenantOwned):
        class Meta:
            app_label = "security"

    class LooseKey(models.Model):  # noqa: DJ008  # a field named tenant is not enough
        tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT)

        class Meta:
            app_label = "security"

    class Cascading(TenantOwned):
        tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, null=True)
        objects = models.Manager()

        class Meta:
            app_label = "security"

    class NoKey(models.Model):  # noqa: DJ008
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "security"

    assert tenant_ownership_offenders([Owned, LooseKey, Cascading, NoKey]) == [
        "security.LooseKey: does not inherit TenantOwned",
        "security.LooseKey: its default manager has no for_tenant()",
        "security.Cascading: tenant is not on_delete=PROTECT",
        "security.Cascading: tenant is nullable",
        "security.Cascading: its default manager has no for_tenant()",
        "security.NoKey: no tenant key",
    ]


def test_tenant_model_indexes_start_with_the_tenant():
    offenders = [
        f"{model._meta.label}:{index.name}"
        for model in _tenant_models() if model is not Tenant
        for index in model._meta.indexes
        if index.fields and index.fields[0].lstrip("-") != "tenant"
    ]
    assert offenders == []


@pytest.mark.django_db
def test_ops_admin_is_for_superusers_only(two_tenants, signed_in, make_client):
    from accounts.models import User

    owner_client = signed_in(two_tenants.a.owner)
    response = owner_client.get("/ops/")
    assert response.status_code == 302 and "/ops/login/" in response["Location"]
    User.objects.create_superuser("root@ops.example", "Operator-password-123")
    operator = make_client()
    operator.force_login(User.objects.get(email="root@ops.example"))
    assert operator.get("/ops/").status_code == 200
