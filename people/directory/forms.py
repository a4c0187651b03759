"""The people list's filters, and the bulk action's selection and confirmation."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from people.directory.bulk import ACTIONS, MAX_SELECTED
from people.directory.selectors import DirectoryFilters, Sort
from people.offboarding.services import REASON_MAX_LENGTH
from tenants.roles import Role

MFA_NONE = "none"
MFA_SET_UP = "set_up"
ORDER_ASC = "asc"
ORDER_DESC = "desc"
# Where each column's header link first sorts (most useful first: recent sign-ins, most alerts).
FIRST_ORDER = {Sort.LAST_SIGNIN: ORDER_DESC, Sort.LOCKED: ORDER_DESC, Sort.ALERTS: ORDER_DESC,
               Sort.MFA: ORDER_ASC}


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search by name or e-mail"), required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search"}))
    role = forms.ChoiceField(label=_("Role"), required=False,
                             choices=[("", _("All roles")), *Role.choices])
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All statuses")), *User.Status.choices])
    mfa = forms.ChoiceField(label=_("Two-step sign-in"), required=False, choices=[
        ("", _("Any")), (MFA_NONE, _("No two-step sign-in"))])
    locked = forms.BooleanField(label=_("Locked out now"), required=False)
    password = forms.ChoiceField(label=_("Password"), required=False, choices=[
        ("", _("Any")), ("expired", _("Password expired"))])
    sort = forms.ChoiceField(required=False, choices=[(s.value, s.value) for s in Sort],
                             widget=forms.HiddenInput)
    dir = forms.ChoiceField(required=False, choices=[(ORDER_ASC, ORDER_ASC), (ORDER_DESC, ORDER_DESC)],
                            widget=forms.HiddenInput)

    def filters(self) -> DirectoryFilters:
        """The valid part of the query: a field with a bad value is left out, not an error page."""
        self.is_valid()
        data = {name: value for name, value in getattr(self, "cleaned_data", {}).items()
                if name not in self.errors}
        return DirectoryFilters(
            query=(data.get("q") or "").strip(), role=data.get("role") or "",
            status=data.get("status") or "", no_mfa=data.get("mfa") == MFA_NONE,
            locked=bool(data.get("locked")), password_expired=data.get("password") == "expired",
            sort=Sort(data.get("sort") or Sort.NAME), descending=data.get("dir") == ORDER_DESC,
        )


def filters_query(filters: DirectoryFilters, **changes: str) -> str:
    """The list's query string for ``filters`` (and ``changes``), without a cursor."""
    params = QueryDict(mutable=True)
    values = {
        "q": filters.query, "role": filters.role, "status": filters.status,
        "mfa": MFA_NONE if filters.no_mfa else "", "locked": "1" if filters.locked else "",
        "password": "expired" if filters.password_expired else "",
        "sort": "" if filters.sort is Sort.NAME else filters.sort.value,
        "dir": ORDER_DESC if filters.descending else "",
    }
    values.update(changes)
    for key, value in values.items():
        if value:
            params[key] = value
    return params.urlencode()


def filters_recorded(filters: DirectoryFilters) -> dict[str, Any]:
    """The filters as the ExportEvent records them (only those set)."""
    recorded: dict[str, Any] = {"sort": filters.sort.value,
                                "order": ORDER_DESC if filters.descending else ORDER_ASC}
    for key, value in (("q", filters.query), ("role", filters.role), ("status", filters.status)):
        if value:
            recorded[key] = value
    for key, flag in (("no_mfa", filters.no_mfa), ("locked", filters.locked),
                      ("password_expired", filters.password_expired)):
        if flag:
            recorded[key] = True
    return recorded


def selected_ids(data: QueryDict) -> list[int]:
    """The people a bulk request names: the ticked rows, or the whole page when asked."""
    raw = data.getlist("page_ids") if data.get("all_on_page") == "1" else data.getlist("person")
    if len(raw) > MAX_SELECTED:
        raise ValidationError(_("Select at most %(max)d people at a time."), code="too_many",
                              params={"max": MAX_SELECTED})
    ids: list[int] = []
    for value in raw:
        text = str(value).strip()
        if not text.isascii() or not text.isdigit() or len(text) > 18:
            raise ValidationError(_("The selection is not valid. Select the people again."),
                                  code="invalid_id")
        ids.append(int(text))
    if not ids:
        raise ValidationError(_("Select at least one person first."), code="empty")
    return list(dict.fromkeys(ids))


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(label=_("Action for the selected people"),
                               choices=[(code, action.label) for code, action in ACTIONS.items()])


class BulkConfirmForm(forms.Form):
    """On the confirmation page: who confirms it is them, and an offboarding's reason and date."""

    secret = forms.CharField(
        label=_("Your password or a code from your authenticator app"), required=False,
        strip=False, max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    reason = forms.CharField(label=_("Reason (recorded in the audit trail)"), required=False,
                             max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}))
    effective_on = forms.DateField(
        label=_("Offboard on (leave empty for now)"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date, such as 2026-12-31.")})

    def __init__(self, *args: Any, needs_secret: bool, needs_reason: bool, tz: str,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz
        if not needs_secret:
            del self.fields["secret"]
        else:
            self.fields["secret"].required = True
            self.fields["secret"].error_messages["required"] = _(
                "Enter your password or a code to confirm it is you.")
        if not needs_reason:
            del self.fields["reason"]
            del self.fields["effective_on"]
        else:
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = _(
                "Say why these people are being offboarded.")

    def clean_effective_on(self) -> datetime | None:
        day = self.cleaned_data.get("effective_on")
        if day is None:
            return None
        zone = zoneinfo.ZoneInfo(self.tz)
        if day < timezone.localdate(timezone=zone):
            raise ValidationError(_("Choose today or a later date."), code="past")
        # The start of that day in the tenant's time zone: today means now.
        return datetime.combine(day, time.min, tzinfo=zone)
