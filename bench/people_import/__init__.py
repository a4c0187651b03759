"""People import: a 100,000-row CSV previewed and applied, peak memory and rows/s against the naive way.

Data: a throwaway PostgreSQL 15 (tests.harness's helper), migrated; per side its own tenant with
one mail domain and an owner, and a generated UTF-8 file of ``--rows`` people (default 100,000;
Chinese and Latin names, every role but owner, a time zone, one row in 50 an error: a foreign
domain, an unknown role, a duplicate, a formula cell).

Sides, each in its own subprocess so that peak RSS (``resource.getrusage`` ``ru_maxrss``)
belongs to it alone:

- **baseline** — the obvious way: ``upload.read().decode()``, ``list(csv.reader(...))`` of the
  whole file, each row checked with its own queries (the person by address, the domain) and its
  outcome saved with ``ImportRow.save()``; then apply: a loop over the in-memory rows calling the
  same ``person_invite`` per row, one transaction each.
- **ours** — ``people.imports``: the upload inspected and stored as chunks, the preview
  streamed and judged in batches (constant queries per batch), apply in batches through the same
  services.

Both sides write the same rows and invite the same people (checked after the run: same outcome
counts, same people and outbox rows). Reported: seconds and rows/s of preview and apply, the
RSS after Django's start-up and the peak, per side. One run per side by default (``--repeat``):
at 100k rows a side takes minutes. ``--quick``: 2,000 rows (proves nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟"]
LATIN = ["Alex", "Sam", "Jordan", "Maria", "Lena", "Omar", "Priya", "Chen", "Yuki", "Ana"]
ROLES = ["member"] * 8 + ["helpdesk", "auditor", "admin"]
ZONES = ["Asia/Shanghai", "Asia/Hong_Kong", "Europe/Berlin", "America/New_York", "UTC"]


def _write_file(path: Path, *, rows: int, domain: str) -> dict[str, int]:
    """The file of one side; returns the expected outcome counts."""
    expected = {"create": 0, "error": 0}
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,name,role,language,time zone,action\r\n")
        for i in range(rows):
            if i % 50 == 49:
                kind = (i // 50) % 4
                out.write([
                    f"p{i}@elsewhere.example,Nobody,member,,,\r\n",
                    f"p{i}@{domain},Bad Role,emperor,,,\r\n",
                    f"p{i - 1}@{domain},Twice,member,,,\r\n",
                    f"p{i}@{domain},=1+1,member,,,\r\n",
                ][kind])
                expected["error"] += 1
                continue
            if i % 3:
                name = SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)]
                language = "zh-hans"
            else:
                name = f"{LATIN[i % len(LATIN)]} {i}"
                language = "en"
            out.write(f"p{i}@{domain},{name},{ROLES[i % len(ROLES)]},{language},"
                      f"{ZONES[i % len(ZONES)]},\r\n")
            expected["create"] += 1
    return expected


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


# --- the sides (in the worker process) ----------------------------------------------------------


def _baseline(tenant: Any, actor: Any, path: Path, *, apply: bool) -> dict[str, float]:
    import csv

    from django.core.validators import validate_email
    from django.db import transaction

    from accounts.models import User, normalize_email
    from people.models import ImportJob, ImportRow
    from people.services import person_invite
    from tenants.models import MailDomain

    start = time.perf_counter()
    with path.open("rb") as upload:
        text = upload.read().decode("utf-8-sig")
    records = list(csv.reader(text.splitlines()))
    header = [cell.strip().lower() for cell in records[0]]
    job = ImportJob.objects.create(tenant=tenant, created_by=actor, filename=path.name,
                                   size=len(text), encoding="utf-8", columns=header,
                                   total_rows=len(records) - 1)
    seen: set[str] = set()
    for line, cells in enumerate(records[1:], start=2):
        values = dict(zip(header, cells, strict=False))
        email = normalize_email(values["email"])
        row = ImportRow(tenant=tenant, job=job, line=line, email=email,
                        display_name=values["name"], role=values["role"],
                        language=values["language"], timezone=values["time zone"])
        error = ""
        try:
            validate_email(email)
        except Exception:  # the naive way: anything wrong is an error
            error = "bad_email"
        if not error and any(cell[:1] and cell[:1] in "=+-@" for cell in cells):
            error = "formula"
        elif not error and values["role"] not in ("owner", "admin", "auditor", "helpdesk", "member"):
            error = "unknown_role"
        elif not error and not MailDomain.objects.filter(tenant=tenant, domain=email.rsplit("@", 1)[1]).exists():
            error = "foreign_domain"
        elif not error and (email in seen or User.objects.filter(email=email).exists()):
            error = "duplicate"
        seen.add(email)
        row.outcome, row.error_code = ("error", error) if error else ("create", "")
        row.save()
    preview = time.perf_counter() - start
    if not apply:
        return {"preview": preview}

    start = time.perf_counter()
    for row in list(ImportRow.objects.filter(tenant=tenant, job=job, outcome="create").order_by("id")):
        with transaction.atomic():
            issued = person_invite(tenant=tenant, actor=actor, email=row.email,
                                   display_name=row.display_name, role=row.role)
            person = issued.invitation.user
            person.language, person.timezone = row.language, row.timezone
            person.save(update_fields=["language", "timezone"])
    return {"preview": preview, "apply": time.perf_counter() - start}


def _ours(tenant: Any, actor: Any, path: Path, *, apply: bool) -> dict[str, float]:
    from django.core.files.uploadedfile import TemporaryUploadedFile

    from people.imports import services
    from people.models import ImportJob

    start = time.perf_counter()
    upload = TemporaryUploadedFile(path.name, "text/csv", path.stat().st_size, "utf-8")
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            upload.write(chunk)
    upload.seek(0)
    job = services.import_job_create(tenant=tenant, actor=actor, upload=upload)
    services.import_job_run(tenant_id=tenant.pk, job_id=job.pk)
    preview = time.perf_counter() - start
    if not apply:
        return {"preview": preview}
    start = time.perf_counter()
    job.refresh_from_db()
    services.import_job_apply(tenant=tenant, actor=actor, job=job, mode=ImportJob.Mode.VALID_ROWS)
    services.import_job_run(tenant_id=tenant.pk, job_id=job.pk)
    apply = time.perf_counter() - start
    job.refresh_from_db()
    assert job.status == ImportJob.Status.APPLIED, job.status
    return {"preview": preview, "apply": apply}


def _worker(argv: list[str]) -> int:
    side, slug, path, apply = argv[0], argv[1], Path(argv[2]), argv[3] == "apply"
    import django

    django.setup()
    from django.conf import settings

    from accounts.models import User
    from tenants.models import Tenant

    settings.NOTIFICATIONS_DELIVER_ON_COMMIT = False  # the worker's path: outbox rows only
    settings.PEOPLE_IMPORT_RUN_ON_COMMIT = False
    tenant = Tenant.objects.get(slug=slug)
    actor = User.objects.get(tenant=tenant, role="owner")
    start_rss = _current_rss_mb()
    times = (_baseline if side == "baseline" else _ours)(tenant, actor, path, apply=apply)
    print(json.dumps({**times, "rss_start_mb": start_rss, "rss_peak_mb": _rss_mb()}))
    return 0


# --- the run --------------------------------------------------------------------------------------


def _setup(slug: str, domain: str) -> None:
    from accounts.models import User
    from tenants.roles import Role
    from tests.factories import TenantFactory

    tenant = TenantFactory(name=slug.title(), slug=slug, domain=domain)
    User.objects.create_user(f"owner@{domain}", None, tenant=tenant, role=Role.OWNER)


def _check(slug: str) -> dict[str, Any]:
    from collections import Counter

    from accounts.models import User
    from notifications.models import OutboxMessage
    from people.models import ImportRow
    from tenants.models import Tenant

    tenant = Tenant.objects.get(slug=slug)
    return {
        "outcomes": dict(Counter(ImportRow.objects.for_tenant(tenant).values_list("outcome", flat=True))),
        "people": User.objects.for_tenant(tenant).count(),
        "invitations": OutboxMessage.objects.for_tenant(tenant).filter(kind="invitation").count(),
    }


def _side(side: str, slug: str, path: Path, env: dict[str, str], *, apply: bool) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.people_import", "--worker", side, slug, str(path),
         "apply" if apply else "preview"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{side} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(argv: list[str]) -> int:
    from bench import common

    if argv[:1] == ["--worker"]:
        return _worker(argv[1:])
    parser = common.standard_arguments(argparse.ArgumentParser(
        prog="python -m bench people_import", description=(__doc__ or "").splitlines()[0]), repeat=1)
    parser.add_argument("--rows", type=int, default=100_000,
                        help="rows of the previewed file (default 100,000)")
    parser.add_argument("--apply-rows", type=int, default=2_000,
                        help="rows of the file previewed and applied (default 2,000: apply runs "
                             "the people services per row, 12-16 ms each)")
    parser.add_argument("--sides", default="baseline,ours",
                        help="which sides to run (default both; 'ours' alone for a long apply's "
                             "memory, with no ratio)")
    args = parser.parse_args(argv)
    sides = [side for side in args.sides.split(",") if side in ("baseline", "ours")] or ["baseline", "ours"]
    sizes = [(500, False), (500, True)] if args.quick else [(args.rows, False), (args.apply_rows, True)]
    results: dict[tuple[int, bool, str], list[dict[str, Any]]] = {}
    mismatches: list[str] = []
    with common.throwaway_postgres() as (url, version), tempfile.TemporaryDirectory() as tmp:
        common.django_on_postgres(url, conn_max_age=0)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mailadmin.settings",
               "PEOPLE_IMPORT_MAX_ROWS": str(max(args.rows, 100_000))}
        for rows, apply in sizes:
            for attempt in range(args.repeat):
                checks = {}
                for side in sides:  # interleaved
                    slug = f"{side}{rows}{'a' if apply else 'p'}{attempt}"
                    domain = f"{slug}.example"
                    _setup(slug, domain)
                    path = Path(tmp) / f"{slug}.csv"
                    expected = _write_file(path, rows=rows, domain=domain)
                    results.setdefault((rows, apply, side), []).append(
                        _side(side, slug, path, env, apply=apply))
                    checks[side] = _check(slug)
                    path.unlink()
                if (len(checks) == 2 and checks["baseline"] != checks["ours"]) or any(
                        check["outcomes"] != expected for check in checks.values()):
                    mismatches.append(f"{rows} rows: {checks} (expected {expected})")
    table = []
    for (rows, apply, side), runs in results.items():
        preview = common.median([r["preview"] for r in runs])
        apply_s = common.median([r["apply"] for r in runs]) if apply else 0.0
        invited = int(rows * 49 / 50)
        table.append([f"{rows:,}", side, f"{preview:.1f} s", f"{rows / preview:,.0f}",
                      f"{apply_s:.1f} s" if apply else "—",
                      f"{invited / apply_s:,.1f}" if apply else "—",
                      f"{common.median([r['rss_start_mb'] for r in runs]):.0f} MB",
                      f"{common.median([r['rss_peak_mb'] for r in runs]):.0f} MB"])
    print(common.machine_report({"PostgreSQL": version,
                                 "runs": f"{args.repeat} per side and size, each in its own process"}))
    print()
    print(common.markdown_table(["rows", "side", "preview", "rows/s", "apply", "invited/s",
                                 "RSS at start", "peak RSS"], table))
    print()
    print("same result: " + ("yes (outcomes, people, invitations)" if not mismatches
                             else "NO\n" + "\n".join(mismatches)))
    return 0 if not mismatches else 1
