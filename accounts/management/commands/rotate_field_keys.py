"""Re-encrypt every encrypted field value with the newest FIELD_ENCRYPTION_KEYS key.

Rotation: prepend a new key to FIELD_ENCRYPTION_KEYS, deploy, run this command, then drop the
old key. Values the newest key already decrypts are left alone, so the command is idempotent
and can be interrupted and re-run. Each batch is one transaction with its rows locked, so a
concurrent write (a TOTP verification saving its device) is never overwritten with a stale
ciphertext.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models.functions import Cast
from tqdm import tqdm

from accounts.fields import EncryptedFieldMixin, field_fernet, primary_fernet


def encrypted_fields() -> list[tuple[type[models.Model], list[models.Field]]]:
    """Every concrete model with encrypted fields, and those fields."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedFieldMixin)]
        if fields:
            found.append((model, fields))
    return found


class Command(BaseCommand):
    help = "Re-encrypt encrypted fields with the newest key in FIELD_ENCRYPTION_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--no-progress", action="store_true",
                            help="No progress bar (CI, logs).")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = max(1, int(options["batch_size"]))
        show_progress = not options["no_progress"]
        try:
            multi, newest = field_fernet(), primary_fernet()
        except Exception as exc:
            raise CommandError(str(exc)) from exc
        totals = {"rotated": 0, "current": 0, "failed": 0}
        for model, fields in encrypted_fields():
            counts = self._rotate_model(model, fields, multi, newest, batch_size, show_progress)
            for key, value in counts.items():
                totals[key] += value
            self.stdout.write(
                f"{model._meta.label}: {counts['rotated']} re-encrypted, "
                f"{counts['current']} already current, {counts['failed']} undecryptable"
            )
        self.stdout.write(self.style.SUCCESS(
            f"Total: {totals['rotated']} re-encrypted, {totals['current']} already current, "
            f"{totals['failed']} undecryptable"
        ))
        if totals["failed"]:
            # Values no configured key can read: an old key was dropped too early.
            raise CommandError(f"{totals['failed']} value(s) could not be decrypted with any key.")

    def _rotate_model(self, model: type[models.Model], fields: list[models.Field], multi: Any,
                      newest: Any, batch_size: int, show_progress: bool) -> dict[str, int]:
        counts = {"rotated": 0, "current": 0, "failed": 0}
        manager = model._base_manager
        # Read the raw ciphertext: a Cast to plain text bypasses the field's decryption.
        raw = {f"_raw_{f.attname}": Cast(f.attname, models.TextField()) for f in fields}
        total = manager.count()
        last_pk: Any = None
        with tqdm(total=total, desc=model._meta.label, unit="row", disable=not show_progress,
                  file=self.stderr) as bar:
            while True:
                with transaction.atomic():
                    qs = manager.order_by("pk")
                    if last_pk is not None:
                        qs = qs.filter(pk__gt=last_pk)
                    rows = list(qs.select_for_update().annotate(**raw)
                                .values("pk", *raw.keys())[:batch_size])
                    for row in rows:
                        updates: dict[str, Any] = {}
                        for f in fields:
                            token = row[f"_raw_{f.attname}"]
                            if token is None:
                                continue
                            data = token.encode("ascii")
                            try:
                                newest.decrypt(data)
                            except InvalidToken:
                                pass
                            else:
                                counts["current"] += 1
                                continue
                            try:
                                rotated = multi.rotate(data).decode("ascii")
                            except InvalidToken:
                                counts["failed"] += 1
                                continue
                            # A plain-text Value: written as is, not encrypted a second time.
                            updates[f.attname] = models.Value(rotated, output_field=models.TextField())
                            counts["rotated"] += 1
                        if updates:
                            manager.filter(pk=row["pk"]).update(**updates)
                bar.update(len(rows))
                if len(rows) < batch_size:
                    break
                last_pk = rows[-1]["pk"]
        return counts
