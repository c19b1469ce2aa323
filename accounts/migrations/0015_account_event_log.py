"""The account event log (accounts/events), and on PostgreSQL a statement trigger that
sends NOTIFY when events are inserted: delivered at commit, it wakes the stream servers
(identical notifications of one transaction are sent once)."""

import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

FORWARD = """
CREATE FUNCTION accounts_account_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rushtrade_account_events', '');
    RETURN NULL;
END $$;
CREATE TRIGGER accounts_accountevent_notify AFTER INSERT ON accounts_accountevent
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_account_event_notify();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS accounts_accountevent_notify ON accounts_accountevent;
DROP FUNCTION IF EXISTS accounts_account_event_notify();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0014_customer_profile")]

    operations = [
        migrations.CreateModel(
            name="AccountEvent",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("kind", models.CharField(max_length=40)),
                (
                    "payload",
                    models.JSONField(
                        default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "account",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="accounts.account",
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
                "indexes": [
                    models.Index(fields=["account", "id"], name="account_event_replay")
                ],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
