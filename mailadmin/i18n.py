"""The language switcher: a signed-out visitor's choice is a cookie, a signed-in person's is theirs.

Django's ``set_language`` keeps the choice in the language cookie and sends the browser back to a
safe ``next``. A signed-in person's language is also saved on their account, because
``TenantMiddleware`` applies the person's own language before anything the browser says; without
that, the switcher would seem to do nothing once signed in. The account change is a ``User`` save,
which the audit trail records like any other profile change.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from accounts.models import User
from accounts.services import language_keep
from tenants.access import PUBLIC, requires


@requires(PUBLIC)
@require_POST
def language_switch_view(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        # Django would keep any language it has a catalogue for ("fr"); only ours are kept, the
        # browser just goes back (to this site only).
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            next_url = "/"
        return HttpResponseRedirect(next_url)
    response = set_language(request)
    user = request.user
    if (isinstance(user, User) and user.is_authenticated
            and language in dict(settings.LANGUAGES) and user.language != language):
        language_keep(user=user, language=language)  # the cookie holds either way
    return response
