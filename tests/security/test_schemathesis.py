"""A bounded, seeded schemathesis run over every operation of /api/schema/: generated
requests (valid ones, and invalid ones where the schema allows) with a customer's token
and a trading API key, asserting that nothing answers 5xx. Derandomized, so each run
sends the same requests; under a minute on a 2-core machine.

The figures (operations, cases, 5xx) are printed at the end (`pytest -s`)."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings

from accounts.api_keys import keys
from accounts.users.tokens import issue_token
from rushtrade.wsgi import application
from tests.factories import AccountFactory, fund

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 8


@pytest.fixture
def customer(market):
    from trading.market.models import Security

    market.last["ACME"] = Decimal("100.00")
    Security.objects.create(
        symbol="ACME", name="Acme Corp", exchange="NYSE", reference_price=Decimal("100.00")
    )
    account = AccountFactory()
    user = account.holders.get()
    fund(account, Decimal("5000.00"), user)
    _token, key = issue_token(user, "schemathesis")
    api_key, secret = keys.create_api_key(account, user, "schemathesis")
    return {
        "Authorization": f"Token {key}",
        "APCA-API-KEY-ID": api_key.key_id,
        "APCA-API-SECRET-KEY": secret,
    }


@pytest.fixture
def keep_connection():
    """Requests go through the WSGI handler, which closes the database connection when a
    request ends; the test's transaction lives on it (Django's test client does the same)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_no_operation_answers_5xx(customer, settings, keep_connection):
    import schemathesis
    from schemathesis.generation import GenerationMode

    settings.API_DOCS_PUBLIC = True
    settings.ALPACA_RATE_LIMIT = 1_000_000
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    cases = 0
    server_errors: list[str] = []

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis_settings(
                max_examples=EXAMPLES_PER_OPERATION // 2,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                nonlocal cases
                cases += 1
                response = case.call(headers=customer)
                if response.status_code >= 500:
                    where = f"{case.method} {case.formatted_path} {case.query}"
                    server_errors.append(f"{where} -> {response.status_code}")

            try:
                run()
            except Exception as exc:  # an operation whose negative cases cannot be made
                if "Unsatisfiable" not in type(exc).__name__:
                    raise

    print(
        f"\nschemathesis: {len(operations)} operations, {cases} cases, "
        f"{len(server_errors)} responses >= 500"
    )
    assert len(operations) >= 45
    assert server_errors == [], "\n".join(server_errors[:20])
