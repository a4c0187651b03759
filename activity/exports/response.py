"""The HTTP side of an export: a streaming response with a safe download name."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from urllib.parse import quote

from django.http import StreamingHttpResponse
from django.utils import timezone

from activity.exports.datasets import Dataset
from activity.exports.formats import ExportFormat
from activity.exports.stream import ExportStream
from tenants.models import Tenant

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")
# Path separators, quotes and controls have no place in a suggested file name in any script.
_UNSAFE_UNICODE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


def export_filenames(
    *, tenant: Tenant, dataset: Dataset, fmt: ExportFormat, now: datetime | None = None
) -> tuple[str, str]:
    """(ASCII fallback, Unicode) file names: ``acme-signin-log-20250301-080000Z.csv``."""
    stamp = (now or timezone.now()).astimezone(UTC).strftime("%Y%m%d-%H%M%SZ")
    slug = _UNSAFE_ASCII.sub("-", tenant.slug).strip("-.") or "export"
    ascii_name = f"{slug}-{dataset.name.replace('_', '-')}-{stamp}.{fmt.extension}"
    title = unicodedata.normalize("NFC", f"{tenant.name} {dataset.label} {stamp}")
    title = _UNSAFE_UNICODE.sub("-", title).strip(" .-")[:150] or slug
    return ascii_name, f"{title}.{fmt.extension}"


def content_disposition(ascii_name: str, unicode_name: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and RFC 5987 ``filename*``."""
    return (f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(unicode_name, safe='')}")


def export_response(
    stream: ExportStream, *, tenant: Tenant, dataset: Dataset, fmt: ExportFormat
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream, content_type=fmt.content_type)
    ascii_name, unicode_name = export_filenames(tenant=tenant, dataset=dataset, fmt=fmt)
    response["Content-Disposition"] = content_disposition(ascii_name, unicode_name)
    # Log data: never kept by a shared cache or the browser's.
    response["Cache-Control"] = "no-store"
    # A reverse proxy buffering the whole file would undo the constant memory and first byte.
    response["X-Accel-Buffering"] = "no"
    return response
