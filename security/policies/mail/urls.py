from __future__ import annotations

from django.urls import path

from security.policies.mail import views

urlpatterns = [
    path("mail/", views.mail_policy_view, name="policy_mail"),
]
