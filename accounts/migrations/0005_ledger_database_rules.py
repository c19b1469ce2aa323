"""PostgreSQL enforces what the ledger code does: every journal entry sums to zero (checked
at commit, so an entry's postings can be inserted one by one) and posted rows are never
updated or deleted. SQLite (the embedded run) relies on the code alone."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION accounts_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE total numeric;
BEGIN
    SELECT COALESCE(SUM(amount), 0) INTO total FROM accounts_posting WHERE entry_id = NEW.entry_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'journal entry % does not balance (sum %)', NEW.entry_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER accounts_posting_balanced AFTER INSERT ON accounts_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION accounts_entry_balanced();

CREATE FUNCTION accounts_ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'posted ledger rows are immutable: post a reversing entry'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER accounts_posting_immutable BEFORE UPDATE OR DELETE ON accounts_posting
    FOR EACH ROW EXECUTE FUNCTION accounts_ledger_immutable();
CREATE TRIGGER accounts_journalentry_immutable BEFORE UPDATE OR DELETE ON accounts_journalentry
    FOR EACH ROW EXECUTE FUNCTION accounts_ledger_immutable();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS accounts_journalentry_immutable ON accounts_journalentry;
DROP TRIGGER IF EXISTS accounts_posting_immutable ON accounts_posting;
DROP TRIGGER IF EXISTS accounts_posting_balanced ON accounts_posting;
DROP FUNCTION IF EXISTS accounts_ledger_immutable();
DROP FUNCTION IF EXISTS accounts_entry_balanced();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_ledger_and_funding")]
    operations = [migrations.RunPython(forward, backward)]
