"""The operations admin: staff only, with a second factor, signed in through allauth.

The admin's own login form would skip two-factor sign-in, so the admin sends logins to
allauth's; a staff login without a second factor is refused and sent to set one up.
"""

import logging
from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import urlencode

log = logging.getLogger(__name__)

# What the admin home warns about (e.g. reconciliation breaks left open): each source,
# registered by an app when it loads, gives (text, link) pairs. The admin imports no app.
_home_warnings: list[Callable[[], list[tuple[str, str]]]] = []


def register_home_warning(source: Callable[[], list[tuple[str, str]]]) -> None:
    if source not in _home_warnings:
        _home_warnings.append(source)


class StaffAdminSite(admin.AdminSite):
    site_header = "RushTrade operations"
    site_title = "RushTrade operations"

    def has_permission(self, request) -> bool:
        from accounts.users.sign_in import has_two_factor

        return super().has_permission(request) and has_two_factor(request.user)

    def login(self, request, extra_context=None):
        from accounts.users.sign_in import has_two_factor

        user = request.user
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse(
            "admin:index", current_app=self.name
        )
        if not user.is_authenticated:
            login = resolve_url("account_login")
            return HttpResponseRedirect(f"{login}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")
        if not (user.is_active and user.is_staff):
            log.warning("admin refused: user %s is not staff", user.pk)
            raise PermissionDenied
        if not has_two_factor(user):
            log.warning("admin refused: staff user %s has no second factor", user.pk)
            messages.warning(
                request,
                "Staff must use two-factor sign-in: set up an authenticator app or a passkey "
                "to reach the operations admin.",
            )
            return HttpResponseRedirect(reverse("mfa_index"))
        return HttpResponseRedirect(next_url)

    def index(self, request, extra_context=None):
        """The home page is the work queue: what waits on staff, with links to work it."""
        from rushtrade.work_queue import statistics_links, work_queues
        from trading.routing.status import routing_status

        routing = routing_status()
        queues = work_queues(routing=routing)
        context = {
            "home_warnings": [warning for source in _home_warnings for warning in source()],
            "work_queues": queues,
            "routing_problems": routing.problems,
            "work_waiting": sum(q.count for q in queues),
            "statistics_links": statistics_links(),
            **(extra_context or {}),
        }
        return super().index(request, context)


class StaffAdminConfig(AdminConfig):
    default_site = "rushtrade.admin_site.StaffAdminSite"
