"""Staff admin of the order outbox and the execution report log."""

from django.contrib import admin

from rushtrade.staff import ReadOnlyAdmin
from trading.orders.models import ExecutionReportLog, OutboxMessage


@admin.register(OutboxMessage)
class OutboxAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "kind", "cl_ord_id", "order", "sent_at")
    list_filter = ("kind", ("sent_at", admin.EmptyFieldListFilter))
    search_fields = ("cl_ord_id",)


@admin.register(ExecutionReportLog)
class ExecutionReportLogAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "exec_type", "cl_ord_id", "report_key", "order")
    search_fields = ("cl_ord_id", "report_key")
