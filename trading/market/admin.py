"""Staff admin of securities and daily closes."""

from django.contrib import admin

from rushtrade.staff import ReadOnlyAdmin
from trading.market.models import DailyClose, Security, Watchlist


@admin.register(Security)
class SecurityAdmin(admin.ModelAdmin):
    """The security master. Halting a symbol or turning tradable off takes effect for
    the next order; the list edits both in place."""

    list_display = (
        "symbol",
        "name",
        "exchange",
        "is_etf",
        "status",
        "tradable",
        "halted",
        "marginable",
        "shortable",
        "reference_price",
    )
    list_editable = ("tradable", "halted")
    list_filter = ("exchange", "is_etf", "status", "tradable", "halted", "marginable", "shortable")
    search_fields = ("symbol", "name", "isin")
    list_per_page = 100

    def get_readonly_fields(self, request, obj=None):
        return ("symbol",) if obj is not None else ()


@admin.register(DailyClose)
class DailyCloseAdmin(ReadOnlyAdmin):
    list_display = ("security", "date", "close", "volume")
    list_filter = ("date",)
    list_select_related = ("security",)
    search_fields = ("security__symbol",)
    date_hierarchy = "date"


@admin.register(Watchlist)
class WatchlistAdmin(ReadOnlyAdmin):
    """Customers' watchlists (read-only: the customer's own to change)."""

    list_display = ("name", "user", "created_at", "updated_at")
    search_fields = ("name", "user__email")
    list_select_related = ("user",)
