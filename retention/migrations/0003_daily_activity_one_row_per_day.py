"""DailyActivity: one row per (tenant, day) with every count of the day in ``counts``, instead of
one row per (tenant, day, metric, key); the rows already rolled up are folded into it."""

import django.db.models.deletion
from django.db import migrations, models


def fold(apps, schema_editor):
    """Each (tenant, day)'s rows into its first one's ``counts``; the others deleted."""
    DailyActivity = apps.get_model("retention", "DailyActivity")
    keep: dict[tuple[int, object], object] = {}
    for row in DailyActivity.objects.order_by("tenant_id", "day", "pk").iterator(chunk_size=2000):
        first = keep.setdefault((row.tenant_id, row.day), row)
        first.counts.setdefault(row.metric, {})[row.key] = row.count
    DailyActivity.objects.exclude(pk__in=[row.pk for row in keep.values()]).delete()
    DailyActivity.objects.bulk_update(list(keep.values()), ["counts"], batch_size=1000)


def unfold(apps, schema_editor):
    DailyActivity = apps.get_model("retention", "DailyActivity")
    for row in list(DailyActivity.objects.order_by("pk")):
        pairs = [(metric, key, count) for metric, keys in row.counts.items() for key, count in keys.items()]
        for n, (metric, key, count) in enumerate(pairs):
            if n == 0:
                row.metric, row.key, row.count = metric, key, count
                row.save(update_fields=["metric", "key", "count"])
            else:
                DailyActivity.objects.create(tenant_id=row.tenant_id, day=row.day, metric=metric,
                                             key=key, count=count, counts={})
        if not pairs:
            row.delete()


class Migration(migrations.Migration):

    dependencies = [
        ('retention', '0002_sweep_run_platform_rows'),
        ('tenants', '0002_tenant_policy_version'),
    ]

    operations = [
        migrations.AddField(
            model_name='dailyactivity',
            name='counts',
            field=models.JSONField(default=dict, verbose_name='counts'),
        ),
        migrations.RemoveConstraint(
            model_name='dailyactivity',
            name='daily_activity_unique',
        ),
        migrations.RunPython(fold, unfold),
        migrations.AlterModelOptions(
            name='dailyactivity',
            options={'ordering': ['day'], 'verbose_name': 'daily activity', 'verbose_name_plural': 'daily activity'},
        ),
        migrations.RemoveIndex(
            model_name='dailyactivity',
            name='daily_tenant_metric_day',
        ),
        migrations.AlterField(
            model_name='dailyactivity',
            name='tenant',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='tenants.tenant', verbose_name='tenant'),
        ),
        migrations.AddConstraint(
            model_name='dailyactivity',
            constraint=models.UniqueConstraint(fields=('tenant', 'day'), name='daily_activity_day_unique'),
        ),
        migrations.RemoveField(
            model_name='dailyactivity',
            name='count',
        ),
        migrations.RemoveField(
            model_name='dailyactivity',
            name='key',
        ),
        migrations.RemoveField(
            model_name='dailyactivity',
            name='metric',
        ),
    ]
