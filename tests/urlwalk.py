"""Walking the project's URLs, for the tests that check every route (access, tenancy, caching)."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def console_routes() -> Iterator[tuple[str, URLPattern]]:
    """Every route of the console as ``(route, pattern)``; Django's admin (``ops/``) is left out:
    the OpsAdminSite lets superusers only, and has its own tests."""
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith("ops/"):
            yield route, pattern


def capability_of(pattern: URLPattern) -> object:
    """What the route's view declared: a ``Cap``, ``PUBLIC``, ``OPERATOR``, or None."""
    view_class = getattr(pattern.callback, "view_class", None)
    if view_class is not None and hasattr(view_class, "capability"):
        return view_class.capability
    return getattr(pattern.callback, "capability", None)
