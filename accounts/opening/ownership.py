"""Whose account is it: a customer reaches only the accounts they hold."""

from django.http import Http404

from accounts.opening.models import Account
from accounts.users.models import User


def owned_account(user: User, account_number: str) -> Account:
    """The account with this number if `user` is one of its holders; otherwise 404, the
    same answer as for a number that does not exist (nobody learns which numbers do)."""
    account = Account.objects.filter(account_number=account_number, holders=user.pk).first()
    if account is None:
        raise Http404("No such account.")
    return account
