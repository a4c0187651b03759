from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from people.models import ImportJob, ImportRow


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"), allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={"required": _("Choose a CSV file to upload.")},
    )


class ImportApplyForm(forms.Form):
    mode = forms.ChoiceField(label=_("When rows have errors"), choices=ImportJob.Mode.choices,
                             widget=forms.RadioSelect, initial=ImportJob.Mode.VALID_ROWS)


class ImportRowsFilterForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), required=False,
                                choices=[("", _("All rows")), *ImportRow.Outcome.choices])
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
