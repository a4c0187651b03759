from __future__ import annotations

from django.urls import path

from people.offboarding import views

urlpatterns = [
    path("people/<int:pk>/offboard/", views.person_offboard_view, name="person_offboard"),
    path("people/<int:pk>/offboard/cancel/", views.person_offboard_cancel_view,
         name="person_offboard_cancel"),
    path("people/<int:pk>/offboard/reactivate/", views.person_offboarded_reactivate_view,
         name="person_offboarded_reactivate"),
    path("people/<int:pk>/require-password-change/", views.person_require_password_change_view,
         name="person_require_password_change"),
    path("people/<int:pk>/end-sessions/", views.person_sessions_end_view, name="person_sessions_end"),
    path("people/<int:pk>/revoke-invitation/", views.invitation_revoke_view, name="invitation_revoke"),
    path("people/<int:pk>/send-reset-link/", views.password_reset_send_view,
         name="person_password_reset_send"),
]
