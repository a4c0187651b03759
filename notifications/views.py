"""The e-mail log, and the webhook pages: list, create (the secret shown once), edit, test, disable,
rotate, delete, delivery log."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.requests import ConsoleRequest
from notifications import selectors, services
from notifications.events import EVENT_TYPES
from notifications.forms import (
    URL_ERROR_CODES,
    EmailLogFilterForm,
    WebhookEndpointEditForm,
    WebhookEndpointForm,
)
from notifications.models import WebhookEndpoint
from tenants.access import requires
from tenants.roles import Cap


def _form_error(form: WebhookEndpointForm, exc: ValidationError) -> None:
    field = "url" if getattr(exc, "code", None) in URL_ERROR_CODES else None
    form.add_error(field, exc)


def _secret_page(request: ConsoleRequest, endpoint: WebhookEndpoint, secret: str,
                 *, created: bool) -> HttpResponse:
    # Rendered, not redirected: the secret is in this one response (no-store) and nowhere else.
    return render(request, "notifications/webhook_secret.html",
                  {"endpoint": endpoint, "secret": secret, "created": created})


@require_safe
@requires(Cap.AUDIT_VIEW)
def email_log_view(request: ConsoleRequest) -> HttpResponse:
    """Every e-mail the console sent (or is still trying to send) for the company, without bodies."""
    form = EmailLogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.outbox_message_list(
        tenant=request.tenant, status=filters.get("status") or "", to=filters.get("to") or "",
        before=filters.get("before"), limit=selectors.EMAIL_PAGE + 1)
    more = len(rows) > selectors.EMAIL_PAGE
    rows = rows[:selectors.EMAIL_PAGE]
    query = request.GET.copy()
    query.pop("before", None)
    if more and rows:
        query["before"] = str(rows[-1].pk)
    return render(request, "notifications/email_log.html", {
        "form": form, "messages_page": rows, "next_query": query.urlencode() if more else "",
        "first_page": not filters.get("before"),
    })


@require_safe
@requires(Cap.WEBHOOKS_MANAGE)
def webhook_list_view(request: ConsoleRequest) -> HttpResponse:
    return render(request, "notifications/webhook_list.html", {
        "endpoints": selectors.webhook_endpoint_list(tenant=request.tenant),
        "event_labels": dict(EVENT_TYPES),
    })


@requires(Cap.WEBHOOKS_MANAGE)
def webhook_create_view(request: ConsoleRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.webhook_endpoint_create(
                tenant=request.tenant, actor=request.user, url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                event_types=form.cleaned_data["event_types"])
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            return _secret_page(request, endpoint, secret, created=True)
    return render(request, "notifications/webhook_form.html", {"form": form, "endpoint": None})


@requires(Cap.WEBHOOKS_MANAGE)
def webhook_detail_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(tenant=request.tenant, pk=pk)
    form = WebhookEndpointEditForm(request.POST or None, initial={
        "url": endpoint.url, "description": endpoint.description,
        "event_types": endpoint.event_types, "active": endpoint.active})
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_endpoint_update(
                tenant=request.tenant, actor=request.user, endpoint=endpoint,
                url=form.cleaned_data["url"], description=form.cleaned_data["description"],
                event_types=form.cleaned_data["event_types"], active=form.cleaned_data["active"])
        except ValidationError as exc:
            _form_error(form, exc)
            endpoint.refresh_from_db()
        else:
            messages.success(request, _("The webhook is saved."))
            return redirect("webhook_detail", pk=endpoint.pk)
    return render(request, "notifications/webhook_form.html", {
        "form": form, "endpoint": endpoint,
        "deliveries": selectors.webhook_delivery_list(tenant=request.tenant, endpoint=endpoint,
                                                      limit=5),
    })


@require_safe
@requires(Cap.WEBHOOKS_MANAGE)
def webhook_deliveries_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(tenant=request.tenant, pk=pk)
    before_text = request.GET.get("before", "")
    before = int(before_text) if before_text.isdigit() else None
    rows = selectors.webhook_delivery_list(tenant=request.tenant, endpoint=endpoint, before=before,
                                           limit=selectors.DELIVERY_PAGE + 1)
    more = len(rows) > selectors.DELIVERY_PAGE
    rows = rows[:selectors.DELIVERY_PAGE]
    return render(request, "notifications/webhook_deliveries.html", {
        "endpoint": endpoint, "deliveries": rows,
        "next_before": rows[-1].pk if more and rows else None, "first_page": before is None,
    })


@require_POST
@requires(Cap.WEBHOOKS_MANAGE)
def webhook_test_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(tenant=request.tenant, pk=pk)
    try:
        services.webhook_test_send(tenant=request.tenant, actor=request.user, endpoint=endpoint)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("A test event is queued; its delivery appears in the log "
                                    "within a few seconds."))
    return redirect("webhook_deliveries", pk=endpoint.pk)


@require_POST
@requires(Cap.WEBHOOKS_MANAGE)
def webhook_disable_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(tenant=request.tenant, pk=pk)
    services.webhook_endpoint_disable(tenant=request.tenant, actor=request.user, endpoint=endpoint)
    messages.success(request, _("The webhook is disabled; it receives nothing until you enable it."))
    return redirect("webhook_detail", pk=endpoint.pk)


@require_POST
@requires(Cap.WEBHOOKS_MANAGE)
def webhook_rotate_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(tenant=request.tenant, pk=pk)
    secret = services.webhook_endpoint_secret_rotate(tenant=request.tenant, actor=request.user,
                                                     endpoint=endpoint)
    return _secret_page(request, endpoint, secret, created=False)


@requires(Cap.WEBHOOKS_MANAGE)
def webhook_delete_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(tenant=request.tenant, pk=pk)
    if request.method == "POST":
        services.webhook_endpoint_delete(tenant=request.tenant, actor=request.user,
                                         endpoint=endpoint)
        messages.success(request, _("The webhook and its delivery log are deleted."))
        return redirect("webhooks")
    return render(request, "notifications/webhook_delete.html", {"endpoint": endpoint})
