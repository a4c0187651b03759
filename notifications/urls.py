"""The notifications pages (mounted by mailadmin/urls.py under /notifications/)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from notifications import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("emails/", views.email_log_view, name="email_log"),
    path("webhooks/", views.webhook_list_view, name="webhooks"),
    path("webhooks/new/", views.webhook_create_view, name="webhook_create"),
    path("webhooks/<int:pk>/", views.webhook_detail_view, name="webhook_detail"),
    path("webhooks/<int:pk>/deliveries/", views.webhook_deliveries_view, name="webhook_deliveries"),
    path("webhooks/<int:pk>/test/", views.webhook_test_view, name="webhook_test"),
    path("webhooks/<int:pk>/disable/", views.webhook_disable_view, name="webhook_disable"),
    path("webhooks/<int:pk>/rotate-secret/", views.webhook_rotate_view, name="webhook_rotate"),
    path("webhooks/<int:pk>/delete/", views.webhook_delete_view, name="webhook_delete"),
]
