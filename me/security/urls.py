from __future__ import annotations

from django.urls import path

from me.data.views import my_data_download_view
from me.security import views

urlpatterns = [
    path("", views.my_security_view, name="my_security"),
    path("password/", views.my_security_password_view, name="my_security_password"),
    path("preferences/", views.my_security_preferences_view, name="my_security_preferences"),
    path("sessions/end/", views.my_security_session_end_view, name="my_security_session_end"),
    path("sessions/end-others/", views.my_security_sessions_end_others_view,
         name="my_security_sessions_end_others"),
    path("my-data.csv", my_data_download_view, name="my_data_download"),
]
