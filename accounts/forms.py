from __future__ import annotations

import zoneinfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import User


def _timezone_choices() -> list[tuple[str, str]]:
    return [("", _("Company default"))] + [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


class ProfileForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Language"), required=False)
    timezone = forms.ChoiceField(label=_("Time zone"), required=False)

    class Meta:
        model = User
        fields = ["display_name", "language", "timezone"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["language"].choices = [("", _("Company default")), *settings.LANGUAGES]
        self.fields["timezone"].choices = _timezone_choices()
