"""The customer's security page: API tokens, trading API keys (with last use), two-factor
sign-in, "sign out everywhere" and the recent security activity."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.api_keys import keys
from accounts.api_keys.models import ApiKey
from accounts.users import activity, tokens
from accounts.users.models import ApiToken
from accounts.users.sign_in import second_factors


@never_cache
@login_required
def security(request):
    return render(
        request,
        "security/security.html",
        {
            "tokens": tokens.active_tokens(request.user),
            "token_lifetime_days": tokens.lifetime_days(),
            "api_keys": keys.active_keys_of_user(request.user),
            "second_factors": second_factors(request.user),
            "activity": activity.recent(request.user),
        },
    )


@require_POST
@login_required
def revoke_token(request, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    tokens.revoke_token(token)
    messages.success(request, f"Token “{token.name}” is revoked: requests with it are refused.")
    return redirect("security")


@require_POST
@login_required
def revoke_api_key(request, key_id: str):
    key = get_object_or_404(ApiKey, key_id=key_id, account__holders=request.user)
    keys.revoke_api_key(key, request.user)
    messages.success(request, f"Key {key.key_id} is revoked: requests with it are refused.")
    return redirect("security")


@require_POST
@login_required
def sign_out_everywhere(request):
    user = request.user
    count = tokens.sign_out_everywhere(user)
    logout(request)
    messages.success(
        request,
        f"You are signed out everywhere, here too, and {count} API token"
        f"{'' if count == 1 else 's'} revoked. Trading API keys were kept: revoke them "
        "on the security page if they may be exposed.",
    )
    return redirect("account_login")
