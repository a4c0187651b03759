"""A worker's start: the parser built, what exists then kept out of the collector's scans."""

from __future__ import annotations

import gc

from django.urls import clear_url_caches, get_resolver

from activity.capture import useragent
from mailadmin.startup import worker_warm


def test_worker_warm_builds_the_parser_and_freezes_what_lives_on() -> None:
    useragent.parser_reset()
    clear_url_caches()  # a resolver that has not loaded its URLconf yet
    gc.unfreeze()
    try:
        worker_warm()
        assert useragent._cached_parse is not None  # built, not left for the first sign-in
        assert gc.get_freeze_count() > 10_000  # modules, URL resolvers, the parser
        # The URL configuration (and every view module) loaded before the freeze, not later.
        assert "url_patterns" in get_resolver().__dict__
    finally:
        gc.unfreeze()  # the rest of the test run collects as usual
