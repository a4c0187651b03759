"""The baseline's URLconf: Django's bare ``LoginView``, nothing else (see bench/signin)."""

from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.urls import path

BASELINE_PATH = "/login/"
BASELINE_DONE = "/done/"

urlpatterns = [
    path("login/", LoginView.as_view(next_page=BASELINE_DONE), name="login"),
]
