"""/v2/: the trading API and market data v2, as Alpaca lays them out."""

from django.urls import path, re_path

from trading.alpaca import errors, views

urlpatterns = [
    path("account", views.AccountView.as_view(), name="alpaca-account"),
    path("account/activities", views.ActivitiesView.as_view(), name="alpaca-activities"),
    path(
        "account/activities/<str:activity_type>",
        views.ActivitiesOfTypeView.as_view(),
        name="alpaca-activities-type",
    ),
    path(
        "account/portfolio/history",
        views.PortfolioHistoryView.as_view(),
        name="alpaca-portfolio-history",
    ),
    path(
        "account/configurations",
        views.AccountConfigurationsView.as_view(),
        name="alpaca-account-configurations",
    ),
    path("watchlists", views.WatchlistsView.as_view(), name="alpaca-watchlists"),
    path(
        "watchlists:by_name", views.WatchlistByNameView.as_view(), name="alpaca-watchlist-by-name"
    ),
    path("watchlists/<str:watchlist_id>", views.WatchlistView.as_view(), name="alpaca-watchlist"),
    path(
        "watchlists/<str:watchlist_id>/<str:symbol>",
        views.WatchlistSymbolView.as_view(),
        name="alpaca-watchlist-symbol",
    ),
    path("positions", views.PositionsView.as_view(), name="alpaca-positions"),
    path(
        "positions/<str:symbol_or_asset_id>", views.PositionView.as_view(), name="alpaca-position"
    ),
    path("orders", views.OrdersView.as_view(), name="alpaca-orders"),
    path(
        "orders:by_client_order_id",
        views.OrderByClientIdView.as_view(),
        name="alpaca-order-by-client-id",
    ),
    path("orders/<str:order_id>", views.OrderView.as_view(), name="alpaca-order"),
    path("assets", views.AssetsView.as_view(), name="alpaca-assets"),
    path("assets/<str:symbol_or_asset_id>", views.AssetView.as_view(), name="alpaca-asset"),
    path("clock", views.ClockView.as_view(), name="alpaca-clock"),
    path("calendar", views.CalendarView.as_view(), name="alpaca-calendar"),
    path("stocks/quotes/latest", views.LatestQuotesView.as_view(), name="alpaca-latest-quotes"),
    path("stocks/trades/latest", views.LatestTradesView.as_view(), name="alpaca-latest-trades"),
    path("stocks/bars", views.BarsView.as_view(), name="alpaca-bars"),
    path("stocks/bars/latest", views.LatestBarsView.as_view(), name="alpaca-latest-bars"),
    path("stocks/snapshots", views.SnapshotsView.as_view(), name="alpaca-snapshots"),
    path("stocks/quotes", views.QuotesView.as_view(), name="alpaca-quotes"),
    path("stocks/trades", views.TradesView.as_view(), name="alpaca-trades"),
    path(
        "stocks/<str:symbol>/bars/latest",
        views.LatestBarView.as_view(),
        name="alpaca-latest-bar",
    ),
    path("stocks/<str:symbol>/snapshot", views.SnapshotView.as_view(), name="alpaca-snapshot"),
    path(
        "stocks/<str:symbol>/quotes", views.SymbolQuotesView.as_view(), name="alpaca-symbol-quotes"
    ),
    path(
        "stocks/<str:symbol>/trades", views.SymbolTradesView.as_view(), name="alpaca-symbol-trades"
    ),
    path(
        "stocks/<str:symbol>/quotes/latest",
        views.LatestQuoteView.as_view(),
        name="alpaca-latest-quote",
    ),
    path(
        "stocks/<str:symbol>/trades/latest",
        views.LatestTradeView.as_view(),
        name="alpaca-latest-trade",
    ),
    path("stocks/<str:symbol>/bars", views.SymbolBarsView.as_view(), name="alpaca-symbol-bars"),
    # Keep last: any other path under /v2/ is Alpaca's 404 body, never Django's page.
    re_path(r"^", errors.endpoint_not_found, name="alpaca-endpoint-not-found"),
]
