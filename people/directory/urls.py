from __future__ import annotations

from django.urls import path

from people.directory import views

urlpatterns = [
    path("people/", views.people_list_view, name="people_list"),
    path("people/bulk/", views.people_bulk_view, name="people_bulk"),
    path("people/export/", views.people_export_view, name="people_export"),
]
