from __future__ import annotations

from django.urls import path

from me.mailclients import views

urlpatterns = [
    path("", views.mail_clients_view, name="mail_clients"),
    path("<int:pk>/revoke/", views.mail_client_revoke_view, name="mail_client_revoke"),
]
