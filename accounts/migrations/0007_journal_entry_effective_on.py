"""JournalEntry.effective_on: the day an entry counts from on the books (a fill's trade
date), so cash as of a past day (account snapshots, firm statistics) is a sum of postings.

Existing entries take the day they were posted, in the firm's time zone. Posted entries
are immutable (0005's trigger refuses UPDATE on PostgreSQL): the trigger is switched off
for this one backfill, inside the migration's transaction, and switched on again."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models.functions import TruncDate

FIRM_TIME_ZONE = "America/Chicago"


def backfill(apps, schema_editor):
    import zoneinfo

    JournalEntry = apps.get_model("accounts", "JournalEntry")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(
            "ALTER TABLE accounts_journalentry DISABLE TRIGGER accounts_journalentry_immutable"
        )
    JournalEntry.objects.filter(effective_on__isnull=True).update(
        effective_on=TruncDate("created_at", tzinfo=zoneinfo.ZoneInfo(FIRM_TIME_ZONE))
    )
    if postgres:
        schema_editor.execute(
            "ALTER TABLE accounts_journalentry ENABLE TRIGGER accounts_journalentry_immutable"
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_ach_simulator_schedule")]

    operations = [
        migrations.AddField(
            model_name="journalentry",
            name="effective_on",
            field=models.DateField(null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="journalentry",
            name="effective_on",
            field=models.DateField(db_index=True, default=django.utils.timezone.localdate),
        ),
    ]
