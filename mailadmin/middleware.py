"""Responses to signed-in requests are not stored by browsers or proxies (ASVS V8.2.1).

Every console and self-service page shows personal or tenant data; a shared computer's back
button, disk cache or a caching proxy must not keep a copy after sign-out. A view that sets its
own Cache-Control (the sign-in pages, exports, ``never_cache``) keeps it; static files, which
WhiteNoise serves before this runs and which hold nobody's data, are left alone too.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control


class SignedInNoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + str(settings.STATIC_URL).lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not response.has_header("Cache-Control")
                and not request.path.startswith(self.static_prefix)):
            patch_cache_control(response, no_store=True)
        return response
