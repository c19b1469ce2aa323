"""The customer's page for trading API keys: list, create (the secret shown once),
revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.api_keys import keys
from accounts.api_keys.models import ApiKey
from accounts.opening.ownership import owned_account
from accounts.users.sign_in import step_up_required
from rushtrade.errors import ServiceError


@never_cache
@login_required
@step_up_required
def api_key_list(request, number):
    account = owned_account(request.user, number)
    created = None
    if request.method == "POST":
        try:
            key, secret = keys.create_api_key(account, request.user, request.POST.get("name", ""))
            created = {"key_id": key.key_id, "secret": secret}
        except ServiceError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "api_keys/api_keys.html",
        {
            "account": account,
            "keys": ApiKey.objects.filter(account=account),
            "created": created,
            "max_keys": keys.MAX_ACTIVE_KEYS,
        },
    )


@require_POST
@login_required
def api_key_revoke(request, number, key_id):
    account = owned_account(request.user, number)
    key = get_object_or_404(ApiKey, account=account, key_id=key_id)
    keys.revoke_api_key(key, request.user)
    messages.success(request, f"Key {key.key_id} is revoked: requests with it are refused.")
    return redirect("account-api-keys", number=account.account_number)
