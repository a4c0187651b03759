"""The console's error pages: 403, 404 and 500, translated, each with a way back.

Django's own handlers render 403.html and 404.html with the request's context (the signed-in
shell, the navigation); they are used as they are. The 500 handler is ours: Django renders
500.html without a request on purpose (a broken context processor must not break the error
page too), so this one adds only the correlation id (``mailadmin.middleware``) and the start
page's address, and falls back to a plain page when even that template cannot be rendered.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from mailadmin.middleware import request_id_current

logger = logging.getLogger(__name__)


@requires_csrf_token
def server_error_view(request: HttpRequest) -> HttpResponse:
    """The 500 page, showing the id the failure was logged under."""
    request_id = getattr(request, "request_id", None) or request_id_current()
    logger.error("Server error shown to the client as reference %s (%s %s)", request_id,
                 request.method, request.path)
    try:
        body = loader.get_template("500.html").render(
            {"request_id": request_id, "home_url": reverse("home")})
    except Exception:  # the error page itself must not fail; the log above has the id
        logger.exception("The 500 page could not be rendered (reference %s)", request_id)
        body = ("<!doctype html><html lang=\"en\"><title>500</title><main><h1>{}</h1><p>{}</p>"
                "<p>{} <code>{}</code></p></main></html>").format(
            escape(_("Something went wrong")), escape(_("The error has been logged. Please try again.")),
            escape(_("Reference:")), escape(request_id))
    return HttpResponseServerError(body)
