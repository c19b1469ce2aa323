"""Staff admin of orders, executions and positions."""

from django.contrib import admin, messages

from rushtrade.errors import ServiceError
from rushtrade.staff import ReadOnlyAdmin, ReadOnlyInline
from trading.orders import entry
from trading.orders.models import (
    AccountConfiguration,
    Execution,
    Order,
    Position,
    PositionAdjustment,
)


class ExecutionInline(ReadOnlyInline):
    model = Execution
    fields = ("exec_id", "qty", "price", "commission", "fees", "executed_at")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "account",
        "side",
        "qty",
        "security",
        "order_type",
        "limit_price",
        "time_in_force",
        "status",
        "filled_qty",
        "order_class",
        "leg",
        "reject_reason",
    )
    list_filter = (
        "status",
        "side",
        "order_type",
        "order_class",
        "time_in_force",
        "created_at",
    )
    search_fields = (
        "account__account_number",
        "security__symbol",
        "client_order_id",
        "cl_ord_id",
    )
    list_select_related = ("account", "security")
    readonly_fields = [f.name for f in Order._meta.fields]
    inlines = [ExecutionInline]
    actions = ["cancel_orders"]

    def has_change_permission(self, request, obj=None):
        # Nothing is editable; the right is needed for the cancel action.
        return request.user.has_perm("trading.change_order")

    @admin.action(description="Cancel the selected open orders (sent to the routing engine)")
    def cancel_orders(self, request, queryset):
        done = 0
        for order in queryset:
            try:
                entry.cancel_order(order, request.user)
                done += 1
            except ServiceError as error:
                self.message_user(request, f"Order {order.pk}: {error.message}", messages.WARNING)
        if done:
            self.message_user(request, f"Cancel requested for {done} order(s).", messages.SUCCESS)


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdmin):
    list_display = ("executed_at", "order", "qty", "price", "commission", "fees", "exec_id")
    list_filter = ("executed_at",)
    search_fields = ("exec_id", "order__account__account_number", "order__security__symbol")
    list_select_related = ("order__security",)


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = ("account", "security", "qty", "avg_cost", "realized_pnl")
    search_fields = ("account__account_number", "security__symbol")
    list_select_related = ("account", "security")


@admin.register(PositionAdjustment)
class PositionAdjustmentAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "account",
        "security",
        "kind",
        "qty_change",
        "qty_after",
        "avg_cost_before",
        "avg_cost_after",
        "fraction",
        "cash_in_lieu",
        "effective_on",
        "reference",
        "created_by",
    )
    list_filter = ("kind", "effective_on")
    search_fields = ("account__account_number", "security__symbol", "reference", "reason")


@admin.register(AccountConfiguration)
class AccountConfigurationAdmin(ReadOnlyAdmin):
    """The settings owners set through the trading API; suspend_trade refuses their new
    orders (each refusal is a WARNING in the log)."""

    list_display = (
        "account",
        "suspend_trade",
        "trade_confirm_email",
        "dtbp_check",
        "pdt_check",
        "updated_at",
    )
    list_filter = ("suspend_trade", "trade_confirm_email")
    search_fields = ("account__account_number",)
    list_select_related = ("account",)
