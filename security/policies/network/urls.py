from __future__ import annotations

from django.urls import path

from security.policies.network import views

urlpatterns = [
    path("network/", views.network_policy_view, name="policy_network"),
]
