from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings")
application = get_wsgi_application()

# Build the User-Agent parser now, not on the first sign-in of each worker.
from activity.capture import parser_warm  # noqa: E402

parser_warm()
