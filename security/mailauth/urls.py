from __future__ import annotations

from django.urls import path

from security.mailauth import views

urlpatterns = [
    path("policy", views.policy_view, name="mail_policy"),
]
