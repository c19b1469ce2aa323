"""UUIDs for orders and securities: the order and asset ids of the trading API (/v2/).
Added nullable, filled row by row, then made unique and required."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    for name in ("Order", "Security"):
        model = apps.get_model("trading", name)
        for pk in model.objects.filter(uuid__isnull=True).values_list("pk", flat=True).iterator():
            model.objects.filter(pk=pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("trading", "0008_watchlist")]

    operations = [
        migrations.AddField(
            model_name="order", name="uuid", field=models.UUIDField(null=True, editable=False)
        ),
        migrations.AddField(
            model_name="security", name="uuid", field=models.UUIDField(null=True, editable=False)
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="order",
            name="uuid",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="The order id of the trading API",
                unique=True,
            ),
        ),
        migrations.AlterField(
            model_name="security",
            name="uuid",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="The asset id of the trading API",
                unique=True,
            ),
        ),
    ]
