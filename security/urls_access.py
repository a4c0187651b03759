from __future__ import annotations

from django.urls import path

from security import views_access

# Mounted under /policies/ (security.policy_urls).
urlpatterns = [
    path("network/", views_access.network_policy_view, name="policy_network"),
    path("hours/", views_access.hours_policy_view, name="policy_hours"),
]
