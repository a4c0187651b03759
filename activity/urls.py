from __future__ import annotations

from activity.exports.urls import urlpatterns as export_urls
from activity.logs.urls import urlpatterns as log_urls

# Log pages (sign-in log, export log, audit trail, own history) and their streaming exports.
urlpatterns = [*log_urls, *export_urls]
