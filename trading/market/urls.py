from django.urls import path

from trading.market import views

urlpatterns = [
    path("quotes/<str:symbol>", views.quote_box, name="quote"),
    path("securities/search", views.symbol_search, name="symbol-search"),
    path("quotes/", views.ticket_quote, name="ticket-quote"),
    path("watchlist/", views.watchlist_page, name="watchlist"),
]
