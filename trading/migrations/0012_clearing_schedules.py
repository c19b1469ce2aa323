from django.db import migrations

EVENING = "Clearing: outbound files after the close"
SIMULATOR = "Clearing: the clearing-firm simulator answers"
MORNING = "Clearing: load, corporate actions, reconcile"


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")

    def weekdays_at(hour, minute):
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=str(minute),
            hour=str(hour),
            day_of_week="1-5",
            day_of_month="*",
            month_of_year="*",
            timezone="America/New_York",
        )
        return crontab

    for name, task, crontab, description in (
        (
            EVENING,
            "trading.tasks.write_clearing_files",
            weekdays_at(17, 0),
            "Writes the day's trades, new and changed accounts, and money movements files "
            "to CLEARING_OUTBOX_DIR (17:00 New York time; nothing on a day that is no NYSE "
            "session; once a business date).",
        ),
        (
            SIMULATOR,
            "trading.simulation.tasks.run_clearing_firm",
            weekdays_at(17, 30),
            "The embedded run's clearing firm answers the day's files (does nothing unless "
            "CLEARING_SIMULATOR, which is on with DEBUG).",
        ),
        (
            MORNING,
            "trading.tasks.run_clearing_morning",
            weekdays_at(7, 0),
            "Loads the clearing firm's files from CLEARING_INBOX_DIR, applies the corporate "
            "actions due (dividends on the pay date, splits on the ex-date) and reconciles "
            "every business date whose files are in (07:00 New York time).",
        ),
    ):
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "crontab": crontab,
                "interval": None,
                "enabled": True,
                "description": description,
            },
        )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[EVENING, SIMULATOR, MORNING]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0011_clearing"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedules, remove_schedules)]
