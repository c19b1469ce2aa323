# Named watchlists (the watchlist page's items go to each user's "Primary Watchlist")
# and account configurations (issue 13).

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def items_to_primary_watchlists(apps, schema_editor):
    Watchlist = apps.get_model("trading", "Watchlist")
    WatchlistItem = apps.get_model("trading", "WatchlistItem")
    users = WatchlistItem.objects.values_list("user_id", flat=True).distinct()
    for user_id in users:
        first = Watchlist.objects.create(user_id=user_id, name="Primary Watchlist")
        WatchlistItem.objects.filter(user_id=user_id).update(watchlist=first)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0010_expiring_api_tokens"),
        ("trading", "0012_clearing_schedules"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Watchlist",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, help_text="The id of the trading API", unique=True)),
                ("name", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="watchlists", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ["created_at", "id"],
                "constraints": [models.UniqueConstraint(fields=("user", "name"), name="watchlist_name_once")],
            },
        ),
        migrations.AddField(
            model_name="watchlistitem",
            name="watchlist",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="items", to="trading.watchlist"),
        ),
        migrations.RunPython(items_to_primary_watchlists, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="watchlistitem",
            name="watchlist",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="items", to="trading.watchlist"),
        ),
        migrations.RemoveConstraint(
            model_name="watchlistitem",
            name="watch_symbol_once",
        ),
        migrations.AddConstraint(
            model_name="watchlistitem",
            constraint=models.UniqueConstraint(fields=("watchlist", "security"), name="watch_symbol_once"),
        ),
        migrations.CreateModel(
            name="AccountConfiguration",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("suspend_trade", models.BooleanField(default=False, help_text="Set by the owner: new orders are refused while on")),
                ("trade_confirm_email", models.CharField(choices=[("all", "All"), ("none", "None")], default="all", max_length=4)),
                ("dtbp_check", models.CharField(choices=[("both", "Entry and exit"), ("entry", "Entry"), ("exit", "Exit")], default="entry", max_length=5)),
                ("pdt_check", models.CharField(choices=[("both", "Entry and exit"), ("entry", "Entry"), ("exit", "Exit")], default="entry", max_length=5)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("account", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="trading_configuration", to="accounts.account")),
            ],
        ),
    ]
