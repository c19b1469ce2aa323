from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from accounts.money.api import ActivityViewSet, BalancesView, BankLinkViewSet, TransferViewSet
from accounts.opening.api import AccountViewSet, ApplicationViewSet
from accounts.users.api import MeView, TokenView
from rushtrade.health import healthz
from trading.market.api import QuotesView
from trading.orders.api import OrderViewSet
from trading.portfolio import views as portfolio_views

admin.site.site_header = "RushTrade operations"
admin.site.site_title = "RushTrade operations"

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
    path("me", MeView.as_view(), name="api-me"),
    path("accounts/<str:account_number>/balances", BalancesView.as_view(), name="api-balances"),
    path("quotes", QuotesView.as_view(), name="api-quotes"),
    *router.urls,
]

urlpatterns = [
    path("", portfolio_views.home, name="home"),
    path("", include("accounts.opening.urls")),
    path("", include("accounts.money.urls")),
    path("", include("accounts.api_keys.urls")),
    path("", include("trading.market.urls")),
    path("", include("trading.reporting.urls")),
    path("", include("trading.orders.urls")),
    path("", include("trading.portfolio.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("v2/", include("trading.alpaca.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
]

handler400 = "rushtrade.errors.handler400"
handler403 = "rushtrade.errors.handler403"
handler404 = "rushtrade.errors.handler404"
handler500 = "rushtrade.errors.handler500"
