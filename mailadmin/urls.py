from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from mailadmin import views

urlpatterns = [
    path("ops/", admin.site.urls),
    path("healthz", views.healthz_view, name="healthz"),
    path("readyz", views.readyz_view, name="readyz"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("", include("security.signin.urls")),
    path("", include("people.urls")),
    path("", include("me.urls")),
    path("", include("activity.urls")),
    path("policies/", include("security.policies.urls")),
    path("alerts/", include("alerts.urls")),
    path("retention/", include("retention.urls")),
    path("notifications/", include("notifications.urls")),
    path("mailauth/", include("security.mailauth.urls")),
]
