from __future__ import annotations

from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "people"

    def ready(self) -> None:
        # The retention sweep purges the imports' personal rows (retention.registry).
        from people.imports import retention

        retention.register()
