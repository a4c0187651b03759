"""security.sessions.store: Django's database sessions, one statement per write."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from security.sessions import store as session_store
from security.sessions.store import SessionStore

pytestmark = pytest.mark.django_db


def test_a_new_session_is_one_insert_and_reads_back() -> None:
    store = SessionStore()
    store["who"] = "mia"
    with CaptureQueriesContext(connection) as queries:
        store.create()
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["INSERT"]
    assert SessionStore(session_key=store.session_key)["who"] == "mia"


def test_a_key_clash_is_retried_with_a_fresh_key(monkeypatch) -> None:
    taken = SessionStore()
    taken["who"] = "first"
    taken.create()
    keys = iter([taken.session_key, "z" * 32])
    monkeypatch.setattr(session_store, "get_random_string", lambda *args: next(keys))
    second = SessionStore()
    second["who"] = "second"
    second.create()
    assert second.session_key == "z" * 32
    assert SessionStore(session_key=taken.session_key)["who"] == "first"  # not overwritten


def test_a_change_is_one_update_and_a_vanished_session_is_refused() -> None:
    store = SessionStore()
    store.create()
    store["step"] = 2
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE"]
    assert SessionStore(session_key=store.session_key)["step"] == 2
    Session.objects.filter(session_key=store.session_key).delete()  # ended elsewhere
    store["step"] = 3
    with pytest.raises(UpdateError):
        store.save()
    assert not Session.objects.filter(session_key=store.session_key).exists()
