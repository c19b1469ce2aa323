from django.db import migrations

TASK_NAME = "Orders: follow trailing stops"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_five_seconds, _ = IntervalSchedule.objects.get_or_create(every=5, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "trading.tasks.follow_trailing_stops",
            "interval": every_five_seconds,
            "crontab": None,
            "enabled": True,
            "description": "Moves the high-water mark and stop price of each trailing stop "
            "not yet triggered with the market, routes those whose stop the price crossed "
            "as market orders, and expires day ones after the close (every 5 seconds).",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0019_order_classes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
