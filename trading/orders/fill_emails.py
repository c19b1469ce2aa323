"""An e-mail to the account's owner for each fill, as the account configuration
`trade_confirm_email` asks (`all`, the default; `none` sends none). The trade
confirmation itself stays a document on the account's documents page either way."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from accounts.opening.models import AccountHolder
from trading.orders.models import AccountConfiguration, Execution

log = logging.getLogger(__name__)


_enqueue: Callable[[list[int]], object] | None = None


def connect(enqueue: Callable[[list[int]], object]) -> None:
    """`enqueue(execution_ids)` is called once the transaction that wrote those fills
    commits (the app passes its Celery task's delay)."""
    global _enqueue
    _enqueue = enqueue


def fills_written(execution_ids: list[int]) -> None:
    """Called where executions are written (one by one, or a whole inbox batch in bulk):
    their e-mails are queued after the commit, one task for the lot. robust: a broker
    that is down costs the e-mails (logged by Django), never the fills."""
    if _enqueue is None or not execution_ids:
        return
    ids, enqueue = list(execution_ids), _enqueue
    transaction.on_commit(lambda: enqueue(ids), robust=True)


def send_fill_email(execution_id: int) -> bool:
    """Send the e-mail of one fill unless the account asked for none; True if sent."""
    execution = Execution.objects.select_related("order__account", "order__security").get(
        pk=execution_id
    )
    order, account = execution.order, execution.order.account
    wanted = (
        AccountConfiguration.objects.filter(account=account)
        .values_list("trade_confirm_email", flat=True)
        .first()
    )
    if wanted == AccountConfiguration.ConfirmEmail.NONE:
        log.info("fill e-mail of execution %s not sent: trade_confirm_email none", execution_id)
        return False
    holder = account.holders.filter(accountholder__role=AccountHolder.Role.PRIMARY).first()
    if holder is None or not holder.email:
        log.warning("fill e-mail of execution %s: account %s has no e-mail", execution_id, account)
        return False
    symbol = order.security.symbol
    subject = f"RushTrade: {order.side} {execution.qty} {symbol} at ${execution.price:.2f}"
    done = (
        "filled" if order.filled_qty >= order.qty else f"{order.filled_qty} of {order.qty} filled"
    )
    link = f"{settings.SITE_URL}/account/{account.account_number}/confirmations/{execution.pk}.pdf"
    body = (
        f"Your order to {order.side} {order.qty} {symbol} in account {account.account_number} "
        f"executed {execution.qty} shares at ${execution.price:.4f} "
        f"({done}).\n\nThe trade confirmation: {link}\n\n"
        "To stop these e-mails, set trade_confirm_email to none in the trading API's "
        "account configurations.\n"
    )
    send_mail(subject, body, None, [holder.email])
    return True
