from __future__ import annotations

from security.urls_access import urlpatterns as access_urls
from security.urls_account import urlpatterns as account_urls

# Access policies (network allowlist, sign-in hours) and account policies (password, MFA,
# lockout, sessions) are served under /policies/.
urlpatterns = [*access_urls, *account_urls]
