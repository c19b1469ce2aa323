"""Staff admin of the account event log: read-only, what each customer's streams said."""

from django.contrib import admin

from accounts.events.models import AccountEvent
from rushtrade.staff import ReadOnlyAdmin


@admin.register(AccountEvent)
class AccountEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "account", "kind", "created_at")
    list_filter = ("kind",)
    search_fields = ("account__account_number",)
    list_select_related = ("account",)
    fields = ("id", "account", "kind", "created_at", "payload")
    readonly_fields = fields
    show_full_result_count = False  # the log is long: no COUNT(*) of it on every page
