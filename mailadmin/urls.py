from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from mailadmin import views
from mailadmin.i18n import language_switch_view

urlpatterns = [
    path("ops/", admin.site.urls),
    path("healthz", views.healthz_view, name="healthz"),
    path("readyz", views.readyz_view, name="readyz"),
    path("i18n/setlang/", language_switch_view, name="set_language"),
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

# 403 and 404 are Django's own handlers rendering 403.html / 404.html with the request's context.
handler500 = "mailadmin.errors.server_error_view"
