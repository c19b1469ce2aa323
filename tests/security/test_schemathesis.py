"""A bounded, seeded schemathesis run over every operation of /api/schema/ (/api/v1 and
/v2): generated requests, valid ones and invalid ones where the schema allows, with a
customer's token and a trading API key. Every answer must be what the schema says: no
5xx, a documented status code, a documented content type and headers, and a body that
validates against the documented schema. Valid requests name the customer's own
objects in their paths (account number, order, watchlist, ...), so they reach real
answers rather than only 404s. Derandomized, so each run sends the same requests;
about a minute and a half on a 2-core machine.

The figures (operations, cases, answers by status class, 5xx, conformance failures)
are printed at the end (`pytest -s`)."""

from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings

from accounts.api_keys import keys
from accounts.money import funding
from accounts.opening import onboarding
from accounts.users import tokens
from rushtrade.wsgi import application
from tests.factories import AccountFactory, filled_order, fund
from trading.market import watchlist
from trading.orders import entry

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 8


class Customer:
    """The customer the requests are made for, their objects, and fresh credentials
    whenever a request has revoked the token (DELETE /api/v1/auth/token does)."""

    def __init__(self, market):
        from trading.market.models import Security

        for symbol in ("ACME", "SPY"):
            market.last[symbol] = Decimal("100.00")
            Security.objects.create(
                symbol=symbol,
                name=f"{symbol} Corp",
                exchange="NYSE",
                reference_price=Decimal("100"),
            )
        account = AccountFactory()
        self.user = user = account.holders.get()
        fund(account, Decimal("5000.00"), user)
        filled_order(account, "buy", 5, "100.00", "E-schemathesis-1")
        order, _ = entry.place_order(
            account,
            user,
            symbol="ACME",
            side="buy",
            order_type="limit",
            time_in_force="day",
            qty=2,
            limit_price=Decimal("90.00"),
        )
        link = account.bank_links.get()
        transfer, _ = funding.request_transfer(
            account, user, direction="deposit", amount=Decimal("100.00"), bank_link_id=link.pk
        )
        draft = onboarding.start_application(user)
        listed = watchlist.create_watchlist(user, "Main", ["ACME", "SPY"])
        api_key, secret = keys.create_api_key(account, user, "schemathesis")
        self.api_key = {"APCA-API-KEY-ID": api_key.key_id, "APCA-API-SECRET-KEY": secret}
        self.token, self.key = tokens.issue_token(user, "schemathesis")
        # The values of path parameters that name the customer's own objects.
        self.objects = {
            "account_number": account.account_number,
            "order_id": str(order.uuid),
            "symbol_or_asset_id": "ACME",
            "symbol": "ACME",
            "watchlist_id": str(listed.uuid),
            "activity_type": "FILL",
        }
        self.in_query = {  # query parameters that name them
            "symbols": "ACME,SPY",
            "client_order_id": order.client_order_id,
            "name": "Main",
        }
        self.ids = {  # /api/v1/...{id}: by the collection it is in
            "orders": order.pk,
            "transfers": transfer.pk,
            "bank-links": link.pk,
            "applications": draft.pk,
        }

    def headers(self) -> dict[str, str]:
        self.token.refresh_from_db()
        if self.token.revoked_at is not None:
            self.token, self.key = tokens.issue_token(self.user, "schemathesis")
        return {"Authorization": f"Token {self.key}", **self.api_key}

    def name_own_objects(self, case) -> None:
        """Point a valid request's path (and the query parameters that name objects) at
        the customer's own objects."""
        for name in list(case.query or {}):
            if name in self.in_query:
                case.query[name] = self.in_query[name]
        for name in list(case.path_parameters or {}):
            if name in self.objects:
                case.path_parameters[name] = self.objects[name]
            elif name == "id":
                collection = case.operation.path.rstrip("/").split("/")[-2]
                if collection in self.ids:
                    case.path_parameters[name] = self.ids[collection]


@pytest.fixture
def customer(market):
    return Customer(market)


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


def test_every_answer_is_documented_and_none_is_5xx(customer, settings, keep_connection):
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.failures import Failure, FailureGroup
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]
    settings.API_DOCS_PUBLIC = True
    settings.ALPACA_RATE_LIMIT = 1_000_000
    settings.CLOSE_POSITION_CANCEL_WAIT_SECONDS = 0  # no routing engine confirms cancels here
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    answers: Counter = Counter()
    answered_2xx: set[str] = set()  # operations with at least one 2xx
    server_errors: list[str] = []
    nonconforming: dict[tuple[str, str], str] = {}  # (operation, what) -> the first case

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
                if case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE:
                    customer.name_own_objects(case)
                headers = customer.headers()
                response = case.call(headers=headers)
                answers[f"{response.status_code // 100}xx"] += 1
                if response.status_code < 300:
                    answered_2xx.add(case.operation.label)
                where = f"{case.method} {case.formatted_path} {case.query} {case.body!r:.120}"
                if response.status_code >= 500:
                    server_errors.append(f"{where} -> {response.status_code}")
                try:
                    case.validate_response(response, checks=checks, headers=headers)
                except (FailureGroup, Failure) as exc:
                    failures = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
                    for failure in failures:
                        key = (case.operation.label, failure.title)
                        nonconforming.setdefault(
                            key, f"{where} -> {response.status_code}: {failure.message:.400}"
                        )

            try:
                run()
            except Exception as exc:  # an operation whose negative cases cannot be made
                if "Unsatisfiable" not in type(exc).__name__:
                    raise

    cases = sum(answers.values())
    print(
        f"\nschemathesis: {len(operations)} operations, {cases} cases "
        f"({answers['2xx']} 2xx, {answers['4xx']} 4xx; {len(answered_2xx)} operations "
        f"answered 2xx at least once), "
        f"{len(server_errors)} responses >= 500, "
        f"{len(nonconforming)} (operation, check) pairs not conforming to the schema"
    )
    assert len(operations) >= 70
    print("never 2xx:", ", ".join(sorted({o.label for o in operations} - answered_2xx)))
    assert answers["2xx"] >= len(operations)  # valid requests reach real answers
    report = [f"{op}: {what}\n    {case}" for (op, what), case in sorted(nonconforming.items())]
    assert (server_errors, report) == ([], []), "\n".join(server_errors[:20] + report)
