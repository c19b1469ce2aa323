from django.db import migrations


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_10s, _ = IntervalSchedule.objects.get_or_create(every=10, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="ACH simulator: settle transfers",
        defaults={
            "task": "accounts.tasks.run_ach_simulator",
            "interval": every_10s,
            "enabled": True,
            "description": "Embedded run only (ACH_SIMULATOR): sends requested transfers "
            "and completes them after ACH_SIMULATED_SETTLEMENT_SECONDS. Does nothing "
            "when ACH_SIMULATOR is off.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="ACH simulator: settle transfers").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_ledger_database_rules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
