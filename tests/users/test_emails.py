"""E-mail a person can read and use (issue 15, point 11): a greeting from RushTrade, not
from the host name; a link that survives the console; no second log-in after confirming
the address; and the portal's address following WEB_PORT."""

import email
import io
import os
import re
import subprocess
import sys

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.urls import reverse

from rushtrade.mail import ConsoleEmailBackend
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def sign_up(client, address="new.customer@example.com"):
    return client.post(
        reverse("account_signup"),
        {"email": address, "password1": PASSWORD, "password2": PASSWORD},
        HTTP_HOST="127.0.0.1:8099",
    )


def test_confirmation_greets_from_rushtrade_not_the_host(client, settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.SITE_URL = "https://portal.rushtrade.test"
    sign_up(client)
    body = mail.outbox[0].body
    assert body.startswith("Hello from RushTrade!")
    assert "Hello from 127.0.0.1" not in body and "Hello from testserver" not in body
    assert "https://portal.rushtrade.test/" in body


def test_confirming_the_address_logs_the_new_customer_in(client):
    response = sign_up(client)
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[0].body).group(0)
    path = "/accounts/confirm-email/" + link.rsplit("/confirm-email/", 1)[1]
    response = client.post(path)
    assert response.status_code == 302
    assert "_auth_user_id" in client.session  # no second log-in
    assert client.get("/").context["user"].email == "new.customer@example.com"


def test_console_prints_a_long_link_whole():
    link = "http://127.0.0.1:8099/accounts/confirm-email/" + "MQ:1vQwXy:" + "a" * 60 + "=b/"
    stream = io.StringIO()
    ConsoleEmailBackend(stream=stream).send_messages(
        [
            EmailMessage(
                "Confirm",
                f"Héllo,\n\nTo confirm, go to {link}\n",
                "a@example.com",
                ["b@example.com"],
            )
        ]
    )
    printed = stream.getvalue()
    assert link in printed
    assert "quoted-printable" not in printed and "=3D" not in printed
    message = email.message_from_string(printed.split("-" * 79)[0])
    assert "Héllo" in message.get_payload()


def test_console_backend_is_the_default_of_the_embedded_run():
    env = {k: v for k, v in os.environ.items() if k not in ("EMAIL_URL", "SITE_URL")}
    env.update(DEBUG="1", WEB_PORT="8099")
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'rushtrade.settings');"
        "django.setup(); from django.conf import settings;"
        "print(settings.EMAIL_BACKEND); print(settings.SITE_URL)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    assert out[-2:] == ["rushtrade.mail.ConsoleEmailBackend", "http://127.0.0.1:8099"]
