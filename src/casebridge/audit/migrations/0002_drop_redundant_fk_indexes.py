"""Drop the single-column indexes on audit_auditevent.organization_id and .patient_id.

The (organization, -at) and (patient, -at) indexes start with the same columns and serve every
lookup; the single-column ones only cost time on each write (a census view writes 500 events). The
database side is a plain DROP INDEX: Django's AlterField would rebuild the whole table on SQLite and
drop and re-validate the foreign key on PostgreSQL, both slow on a large audit log.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "audit_auditevent_organization_id_4b1fe3b9": "organization_id",
    "audit_auditevent_patient_id_82c45eaf": "patient_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("audit", "0001_initial"),
        ("patients", "0002_name_keys"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="organization",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="accounts.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="patient",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="patients.patient",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "audit_auditevent" ("{column}")',
                )
                for name, column in INDEXES.items()
            ],
        ),
    ]
