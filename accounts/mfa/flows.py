"""Page-level steps shared by /me/mfa/ and the sign-in pipeline's pre-MFA enrolment page.

Each flow takes the request and the user explicitly (the pre-MFA session has no signed-in
user) and returns what the page needs; the view decides where to go next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.mfa import services
from accounts.mfa.forms import TotpEnrollForm
from accounts.mfa.models import EncryptedTOTPDevice
from accounts.models import User

_CODE_ERRORS = {"code_format", "code_incorrect"}


@dataclass
class TotpEnrollStep:
    """``device`` is set once enrolment succeeded; otherwise ``context`` renders the page.

    ``context`` holds ``form``, ``qr_svg``, ``key_text`` and ``enrollment`` — exactly what
    ``accounts/mfa/_enroll_form.html`` expects.
    """

    device: EncryptedTOTPDevice | None = None
    context: dict[str, Any] = field(default_factory=dict)


def totp_enroll_step(*, request: HttpRequest, user: User) -> TotpEnrollStep:
    """GET shows the pending enrolment (or starts one); POST confirms it with a code."""
    if request.method == "POST":
        form = TotpEnrollForm(request.POST)
        if form.is_valid():
            try:
                device = services.totp_enrollment_confirm(
                    session=request.session, user=user, step_token=form.cleaned_data["step"],
                    code=form.cleaned_data["code"], name=form.cleaned_data["name"],
                )
            except ValidationError as exc:
                form.add_error("code" if exc.code in _CODE_ERRORS else None, exc)
            else:
                return TotpEnrollStep(device=device)
        enrollment = services.totp_enrollment_begin(session=request.session, user=user)
        # Re-render with the current step (a new one if the old expired), never the old code.
        data = request.POST.copy()
        data["step"] = enrollment.step_token
        data["code"] = ""
        form.data = data
    else:
        enrollment = services.totp_enrollment_begin(
            session=request.session, user=user, restart=request.GET.get("restart") == "1",
        )
        form = TotpEnrollForm(initial={"step": enrollment.step_token})
    return TotpEnrollStep(context={
        "form": form, "enrollment": enrollment, "qr_svg": enrollment.qr_svg,
        "key_text": enrollment.key_text,
    })
