""""Download my data": the person's own sign-in and export history as one CSV (``me.data.services``)."""

from __future__ import annotations

from datetime import UTC

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.requests import ConsoleRequest
from activity.capture import client_info
from activity.exports.formats import ExportFormat
from activity.exports.response import content_disposition
from me.data.services import my_data_export_open
from tenants.access import requires
from tenants.roles import Cap


@requires(Cap.SELF_SERVICE)
@require_GET
def my_data_download_view(request: ConsoleRequest) -> StreamingHttpResponse:
    stream = my_data_export_open(user=request.user, client=client_info(request))
    response = StreamingHttpResponse(stream, content_type=ExportFormat.CSV.content_type)
    stamp = timezone.now().astimezone(UTC).strftime("%Y%m%d-%H%M%SZ")
    # The tenant's slug is ASCII by construction (SlugField): the same name serves both forms.
    name = f"{request.tenant.slug}-my-data-{stamp}.csv"
    response["Content-Disposition"] = content_disposition(name, name)
    response["Cache-Control"] = "no-store"  # personal data: kept by no cache
    response["X-Accel-Buffering"] = "no"  # streamed, not buffered whole by a reverse proxy
    return response
