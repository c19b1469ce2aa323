from django.urls import path

from trading.portfolio import symbol, views

urlpatterns = [
    path("portfolio/", views.combined, name="portfolio-combined"),
    path("account/<str:number>/", views.account_overview, name="account-overview"),
    path("account/<str:number>/portfolio", views.portfolio_partial, name="account-portfolio"),
    path("symbols/<str:symbol>/", symbol.symbol_page, name="symbol"),
    path("search/", symbol.search, name="search"),
    path("search/suggest", symbol.suggest, name="search-suggest"),
]
