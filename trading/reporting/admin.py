"""Staff admin of snapshots and monthly statistics (read-only)."""

from django.contrib import admin

from rushtrade.staff import ReadOnlyAdmin
from trading.reporting.models import AccountSnapshot, MonthlyStatistics


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
