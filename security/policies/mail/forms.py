"""The mail-client policy form; it only shapes input, the service decides and validates."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.roles import Role


class MailPolicyForm(forms.Form):
    client_passwords_required = forms.BooleanField(
        label=_("Require client-specific passwords for everyone"), required=False,
        help_text=_("Mail clients are refused the account password even for people without two-step "
                    "sign-in; each person creates a client-specific password on My security."))
    off_roles = forms.MultipleChoiceField(
        label=_("Turn mail protocols off for"), choices=Role.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("People with these roles cannot sign in from mail clients (IMAP, POP3, SMTP) at "
                    "all; the web console is not affected. One person can be switched off on their "
                    "page."))


SWITCH_INVALID = _("Choose whether mail protocols are on or off.")


class PersonMailForm(forms.Form):
    """The person page's switch. Each of its two buttons posts the state it sets, so a missing or
    forged value is an error rather than "on", and a stale page posted twice sets the same state."""

    mail_protocols = forms.ChoiceField(
        choices=[("off", _("Off")), ("on", _("On"))],
        error_messages={"required": SWITCH_INVALID, "invalid_choice": SWITCH_INVALID})
