from django.db import migrations

TASK_NAME = "Market data: record daily closes"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    after_the_close, _ = CrontabSchedule.objects.get_or_create(
        minute="10",
        hour="16",
        day_of_week="1-5",
        day_of_month="*",
        month_of_year="*",
        timezone="America/New_York",
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "trading.tasks.record_daily_closes",
            "crontab": after_the_close,
            "interval": None,
            "enabled": True,
            "description": "Stores each active security's closing price and volume for the "
            "last NYSE session that has closed (16:10 New York time on weekdays; on a "
            "holiday it stores nothing new).",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0001_securities_orders"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
