from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.events import EVENT_TYPES
from notifications.models import Status

# Service errors that are about the URL: shown under the URL field, not above the form.
URL_ERROR_CODES = {"invalid", "scheme", "http", "credentials", "console", "unresolved", "private"}


class WebhookEndpointForm(forms.Form):
    # A CharField: the URL rules (https, public address, not the console) are the service's,
    # so ftp:// and http:// get their own explanation rather than a generic "invalid URL".
    url = forms.CharField(label=_("URL"), max_length=2000,
                          help_text=_("An https:// address on the public internet that accepts "
                                      "POST requests with a JSON body."),
                          widget=forms.URLInput(attrs={"placeholder": "https://"}))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Events"), choices=EVENT_TYPES, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")})


class WebhookEndpointEditForm(WebhookEndpointForm):
    active = forms.BooleanField(label=_("Active"), required=False,
                                help_text=_("A disabled webhook receives nothing; its undelivered "
                                            "events are dropped."))


class EmailLogFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All statuses")), *Status.choices])
    to = forms.CharField(label=_("Recipient"), required=False, max_length=254)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
