from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import AccountSnapshot, DailyClose, MonthlyStatistics, Security


@admin.register(Security)
class SecurityAdmin(admin.ModelAdmin):
    """The security master. Halting a symbol or turning tradable off takes effect for
    the next order; the list edits both in place."""

    list_display = (
        "symbol",
        "name",
        "exchange",
        "status",
        "tradable",
        "halted",
        "marginable",
        "shortable",
        "reference_price",
    )
    list_editable = ("tradable", "halted")
    list_filter = ("exchange", "status", "tradable", "halted", "marginable", "shortable")
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


@admin.register(AccountSnapshot)
class AccountSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("account", "date", "cash", "market_value", "equity", "positions")
    list_select_related = ("account",)
    search_fields = ("account__account_number",)
    date_hierarchy = "date"


@admin.register(MonthlyStatistics)
class MonthlyStatisticsAdmin(ReadOnlyAdmin):
    """Read-only: the staff statistics pages (/staff/statistics/) show, chart, export
    and recompute the months."""

    list_display = (
        "month",
        "accounts_open",
        "customer_assets",
        "trades",
        "shares_traded",
        "computed_at",
        "source",
        "computed_by",
    )
    list_filter = ("source",)


from . import order_admin  # noqa: E402, F401  (orders, executions, positions, outbox)
