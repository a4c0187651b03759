from __future__ import annotations

from django.urls import include, path

from people import views
from security.policies.mail.views import person_mail_view

urlpatterns = [
    path("", include("people.directory.urls")),  # the list, its bulk actions and export
    path("people/invite/", views.person_invite_view, name="person_invite"),
    path("people/import/", include("people.imports.urls")),
    path("people/<int:pk>/", views.person_detail_view, name="person_detail"),
    path("", include("people.offboarding.urls")),  # offboarding and the helpdesk's actions
    path("people/<int:pk>/role/", views.person_role_view, name="person_role"),
    path("people/<int:pk>/suspend/", views.person_suspend_view, name="person_suspend"),
    path("people/<int:pk>/reactivate/", views.person_reactivate_view, name="person_reactivate"),
    path("people/<int:pk>/mail/", person_mail_view, name="person_mail"),
    path("people/<int:pk>/reset-mfa/", views.person_reset_mfa_view, name="person_reset_mfa"),
    path("people/locked/", views.locked_accounts_view, name="locked_accounts"),
    path("people/<int:pk>/unlock/", views.person_unlock_view, name="person_unlock"),
    path("people/<int:pk>/resend/", views.invitation_resend_view, name="invitation_resend"),
    path("invitation/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
]
