from django.db import migrations

SNAPSHOTS = "Accounts: daily snapshots at the close"
STATISTICS = "Statistics: monthly firm statistics"


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    after_the_closes, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="16",
        day_of_week="1-5",
        day_of_month="*",
        month_of_year="*",
        timezone="America/New_York",
    )
    PeriodicTask.objects.update_or_create(
        name=SNAPSHOTS,
        defaults={
            "task": "trading.tasks.take_account_snapshots",
            "crontab": after_the_closes,
            "interval": None,
            "enabled": True,
            "description": "Values every open account at the last NYSE close (16:30 New York "
            "time on weekdays, after the daily closes are recorded; records them first if "
            "they are missing). A repeated run replaces the day's rows.",
        },
    )
    after_month_end, _ = CrontabSchedule.objects.get_or_create(
        minute="15",
        hour="1",
        day_of_week="*",
        day_of_month="1",
        month_of_year="*",
        timezone="America/Chicago",
    )
    PeriodicTask.objects.update_or_create(
        name=STATISTICS,
        defaults={
            "task": "trading.tasks.compute_monthly_statistics",
            "crontab": after_month_end,
            "interval": None,
            "enabled": True,
            "description": "Computes the month that has just closed (01:15 Chicago time on the "
            "1st), and any of the 13 months before it not computed yet. Recomputing "
            "replaces a month's row; staff can recompute from the statistics pages.",
        },
    )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[SNAPSHOTS, STATISTICS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0006_monthly_statistics"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedules, remove_schedules)]
