"""What a web worker does once, after Django is set up and before its first request.

``mailadmin.wsgi`` calls ``worker_warm()`` in every worker; the benchmarks call it too, so they
measure a process that started the way a worker does.
"""

from __future__ import annotations

import gc

from django.urls import get_resolver

from activity.capture import parser_warm


def worker_warm() -> None:
    """Build the per-process caches now, then take them out of the cyclic collector's scans."""
    # The User-Agent parser (~1,000 regexes) is built here, not on the first sign-in.
    parser_warm()
    # The URL configuration, and with it every view module, loads now rather than on the first
    # request, so it is frozen below too (else ~15,000 objects stay in every full collection).
    get_resolver().url_patterns  # noqa: B018  # the property imports the URLconf
    # Everything alive now (modules, URL resolvers, templates, the parser) lives as long as the
    # process. Frozen, a full collection no longer walks it: measured on a log page, a gen-2
    # collection that landed in a request cost it 39.5 ms before, nothing measurable after.
    gc.collect()
    gc.freeze()
