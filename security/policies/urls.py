from __future__ import annotations

from security.policies.hours.urls import urlpatterns as hours_urls
from security.policies.lockout.urls import urlpatterns as lockout_urls
from security.policies.mail.urls import urlpatterns as mail_urls
from security.policies.mfa.urls import urlpatterns as mfa_urls
from security.policies.network.urls import urlpatterns as network_urls
from security.policies.password.urls import urlpatterns as password_urls
from security.policies.sessions.urls import urlpatterns as sessions_urls

# Mounted under /policies/ (mailadmin.urls).
urlpatterns = [*network_urls, *hours_urls, *password_urls, *mfa_urls, *lockout_urls, *sessions_urls,
               *mail_urls]
