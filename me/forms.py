from __future__ import annotations

import zoneinfo
from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import User


def _timezone_choices() -> list[tuple[str, object]]:
    return [("", _("Company default"))] + [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


class ProfileForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Language"), required=False)
    timezone = forms.ChoiceField(label=_("Time zone"), required=False)

    class Meta:
        model = User
        fields = ["display_name", "language", "timezone"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.language_field.choices = [("", _("Company default")), *settings.LANGUAGES]
        self.timezone_field.choices = _timezone_choices()

    @property
    def language_field(self) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields["language"])

    @property
    def timezone_field(self) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields["timezone"])


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
