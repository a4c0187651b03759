from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from security.mailauth.wsgi import policy_dispatch

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings")

# Dovecot's policy calls (/mailauth/policy) skip the console's middleware stack: see
# security/mailauth/wsgi.py. The request id stays, so their log lines carry one.
application = policy_dispatch(get_wsgi_application(), middleware=["mailadmin.middleware.RequestIdMiddleware"])

from mailadmin.startup import worker_warm  # noqa: E402  # needs Django set up

worker_warm()
