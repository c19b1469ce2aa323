"""The event log's NOTIFY carries the statement's events when they fit in a
notification (under PostgreSQL's 8,000 bytes): the stream servers then hand them on
without reading the table (accounts/events/feed.py). A statement of many events, or
of large ones, still sends an empty notification and the servers read the rows."""

from django.db import migrations

FORWARD = """
DROP TRIGGER IF EXISTS accounts_accountevent_notify ON accounts_accountevent;
CREATE OR REPLACE FUNCTION accounts_account_event_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    body text := '';
BEGIN
    IF (SELECT count(*) FROM new_events) <= 8 THEN
        SELECT json_agg(json_build_array(id, account_id, kind, payload, created_at)
                        ORDER BY id)::text
          INTO body FROM new_events;
        IF body IS NULL OR octet_length(body) >= 8000 THEN
            body := '';
        END IF;
    END IF;
    PERFORM pg_notify('rushtrade_account_events', body);
    RETURN NULL;
END $$;
CREATE TRIGGER accounts_accountevent_notify AFTER INSERT ON accounts_accountevent
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_account_event_notify();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS accounts_accountevent_notify ON accounts_accountevent;
CREATE OR REPLACE FUNCTION accounts_account_event_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rushtrade_account_events', '');
    RETURN NULL;
END $$;
CREATE TRIGGER accounts_accountevent_notify AFTER INSERT ON accounts_accountevent
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_account_event_notify();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0016_dividend_withholding_cash_in_lieu")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
