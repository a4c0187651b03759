from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class OpsAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "mailadmin.admin.OpsAdminSite"


class MailadminConfig(AppConfig):
    default = True
    name = "mailadmin"
