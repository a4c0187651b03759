from __future__ import annotations

from django.apps import AppConfig


class MeConfig(AppConfig):
    name = "me"
