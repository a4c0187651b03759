from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings")
application = get_wsgi_application()

from mailadmin.startup import worker_warm  # noqa: E402  # needs Django set up

worker_warm()
