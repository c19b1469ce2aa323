from allauth.account import views as allauth_views
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from accounts.money.api import ActivityViewSet, BalancesView, BankLinkViewSet, TransferViewSet
from accounts.opening.api import AccountViewSet, ApplicationViewSet
from accounts.streams import api as events_api
from accounts.users.api import MeView, TokenDetailView, TokenListView, TokenView
from accounts.users.sign_in import step_up_required
from rushtrade.health import healthz
from trading.market.api import QuotesView
from trading.orders.api import OrderViewSet
from trading.portfolio import views as portfolio_views


def docs_view(view):
    """The API schema and docs: public in the embedded run, staff only in production."""
    for_staff = staff_member_required(view)

    def dispatch(request, *args, **kwargs):
        return (view if settings.API_DOCS_PUBLIC else for_staff)(request, *args, **kwargs)

    return dispatch


router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("applications", ApplicationViewSet, basename="api-application")
router.register("accounts", AccountViewSet, basename="api-account")
router.register(
    "accounts/<str:account_number>/bank-links", BankLinkViewSet, basename="api-bank-link"
)
router.register("accounts/<str:account_number>/transfers", TransferViewSet, basename="api-transfer")
router.register("accounts/<str:account_number>/orders", OrderViewSet, basename="api-order")
router.register(
    "accounts/<str:account_number>/activities", ActivityViewSet, basename="api-activity"
)

api_v1 = [
    path("auth/token", TokenView.as_view(), name="api-token"),
    path("auth/tokens", TokenListView.as_view(), name="api-tokens"),
    path("auth/tokens/<int:token_id>", TokenDetailView.as_view(), name="api-token-detail"),
    path("me", MeView.as_view(), name="api-me"),
    path("accounts/<str:account_number>/balances", BalancesView.as_view(), name="api-balances"),
    path("quotes", QuotesView.as_view(), name="api-quotes"),
    path("events", events_api.events, name="api-events"),
    *router.urls,
]

urlpatterns = [
    path("", portfolio_views.home, name="home"),
    path("", include("accounts.opening.urls")),
    path("", include("accounts.money.urls")),
    path("", include("accounts.api_keys.urls")),
    path("", include("accounts.security.urls")),
    path("", include("accounts.profile.urls")),
    path("", include("trading.market.urls")),
    path("", include("trading.reporting.urls")),
    path("", include("trading.orders.urls")),
    path("", include("trading.portfolio.urls")),
    # Changing the password or the e-mail addresses needs a step-up (accounts/users/sign_in.py).
    path(
        "accounts/password/change/",
        step_up_required(allauth_views.password_change),
        name="account_change_password",
    ),
    path("accounts/email/", step_up_required(allauth_views.email), name="account_email"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("v2/", include("trading.alpaca.urls")),
    path("api/schema/", docs_view(SpectacularAPIView.as_view()), name="api-schema"),
    path(
        "api/docs/",
        # The split view serves Swagger UI's start-up script as a file: no inline script.
        docs_view(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("healthz", healthz, name="healthz"),
]

handler400 = "rushtrade.errors.handler400"
handler403 = "rushtrade.errors.handler403"
handler404 = "rushtrade.errors.handler404"
handler500 = "rushtrade.errors.handler500"
