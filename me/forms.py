from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from me.timezones import timezone_choices, zone_label


def _language_choices() -> list[tuple[str, object]]:
    return [("", _("Company default")), *settings.LANGUAGES]


def _timezone_field_choices(user: User) -> list[Any]:
    """"Company default (its zone now)", then the company's zone, then the curated list by region."""
    company = user.tenant.timezone if user.tenant is not None else "UTC"
    default = _("Company default: %(zone)s") % {"zone": zone_label(company)}
    # The person's own saved zone stays selectable even when it is an alias outside the list.
    return [("", default), *timezone_choices(first=[company, user.timezone])]


def _language_field() -> forms.ChoiceField:
    return forms.ChoiceField(label=_("Language"), required=False, error_messages={
        "invalid_choice": _("Choose a language from the list.")})


def _timezone_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Time zone"), required=False,
        help_text=_("Times on every page and in your downloads are shown in this zone."),
        error_messages={"invalid_choice": _("Choose a time zone from the list.")})


def _set_choices(form: forms.BaseForm, user: User) -> None:
    cast(forms.ChoiceField, form.fields["language"]).choices = _language_choices()
    cast(forms.ChoiceField, form.fields["timezone"]).choices = _timezone_field_choices(user)


class ProfileForm(forms.ModelForm):
    language = _language_field()
    timezone = _timezone_field()

    class Meta:
        model = User
        fields = ["display_name", "language", "timezone"]

    def __init__(self, *args: Any, instance: User, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "instance": instance})
        _set_choices(self, instance)


class LanguageTimeZoneForm(forms.Form):
    """"My security": the person's language and time zone."""

    language = _language_field()
    timezone = _timezone_field()

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"language": user.language, "timezone": user.timezone})
        super().__init__(*args, **kwargs)
        _set_choices(self, user)


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("Current password"), strip=False, max_length=4096,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password1 = forms.CharField(label=_("New password"), strip=False, max_length=4096,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password2 = forms.CharField(label=_("Repeat the new password"), strip=False, max_length=4096,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two passwords differ."))
        return data
