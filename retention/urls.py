"""The retention pages, mounted at /retention/ by mailadmin/urls.py."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from retention import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.retention_policy_view, name="retention_policy"),
    path("holds/", views.legal_holds_view, name="legal_holds"),
    path("holds/<int:pk>/extend/", views.legal_hold_extend_view, name="legal_hold_extend"),
    path("holds/<int:pk>/lift/", views.legal_hold_lift_view, name="legal_hold_lift"),
    path("reports/", views.reports_view, name="reports"),
    path("reports/month.csv", views.reports_month_csv_view, name="reports_month_csv"),
]
