"""The allowlist form: one entry per line in, ``(cidr, label)`` pairs out."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from security.policies.forms import ModePolicyForm
from security.policies.network.rules import MAX_ENTRIES, NetworkScope, network_entries_clean

# Generous for real lists (1,000 entries with labels), small enough that a pasted blob is an
# error message rather than work.
ENTRIES_MAX_LENGTH = 60_000


class NetworkPolicyForm(ModePolicyForm):
    entries = forms.CharField(
        label=gettext_lazy("Allowed networks"), required=False, max_length=ENTRIES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 60, "spellcheck": "false"}),
        help_text=gettext_lazy("One per line: a network such as 192.0.2.0/24 or 2001:db8::/32 (or a single "
                               "address), then an optional label. Lines starting with # are ignored."))
    scope = forms.ChoiceField(label=gettext_lazy("Applies to"), choices=NetworkScope.choices)

    field_order = ["entries", "mode", "scope", "channels", "confirm_self_lockout"]

    def clean_entries(self) -> list[tuple[str, str]]:
        parsed: list[tuple[str, str]] = []
        for line in self.cleaned_data["entries"].splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            cidr, *label = line.split(None, 1)
            parsed.append((cidr, label[0].strip() if label else ""))
        if len(parsed) > MAX_ENTRIES:
            raise ValidationError(_("An allowlist holds at most %(max)d entries."), code="too_many",
                                  params={"max": MAX_ENTRIES})
        return parsed

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "entries" in data and "mode" in data:
            try:
                network_entries_clean(data["entries"], mode=data["mode"])
            except ValidationError as exc:
                self.add_error("entries", exc)
        return data
