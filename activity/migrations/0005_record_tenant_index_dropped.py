"""Drop the single-column tenant_id index of the two record tables.

Every other index of these tables starts with tenant_id, so this one served no query; it cost
an index insert per event, a sort per bulk-loaded day and planning time over every day
partition. Only the index goes: Django's own AlterField would also drop and re-add the foreign
key, which re-validates every row of a table of tens of millions under a lock. The statements
are the same on PostgreSQL (where dropping the partitioned index drops it on every partition)
and SQLite.
"""

import django.db.models.deletion
from django.db import migrations, models

TENANT_INDEXES = (
    ("activity_exportevent", "activity_exportevent_tenant_id_cfe281ae"),
    ("activity_loginevent", "activity_loginevent_tenant_id_7eb1a95e"),
)


class Migration(migrations.Migration):

    dependencies = [
        ("activity", "0004_record_code_checks"),
        ("tenants", "0002_tenant_policy_version"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("tenant_id")',
                )
                for table, index in TENANT_INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name=model,
                    name="tenant",
                    field=models.ForeignKey(db_index=False,
                                            on_delete=django.db.models.deletion.PROTECT,
                                            to="tenants.tenant", verbose_name="tenant"),
                )
                for model in ("exportevent", "loginevent")
            ],
        ),
    ]
