"""Staff admin of routing: the Routing page (sessions, inbox, parked messages, orders
waiting on the engine, rejects), the inbox, the outbox and the report log."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone

from rushtrade.staff import ReadOnlyAdmin
from trading.orders.models import ExecutionReportLog, OutboxMessage
from trading.routing import inbox, status
from trading.routing.models import InboundMessage, RoutingSession


@admin.register(RoutingSession)
class RoutingAdmin(ReadOnlyAdmin):
    """The Routing page: what a person on call looks at first."""

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("trading.delete_routingsession")

    def changelist_view(self, request, extra_context=None):
        context = {
            **self.admin_site.each_context(request),
            "title": "Routing",
            "opts": self.model._meta,
            "status": status.routing_status(),
            "unanswered": status.unanswered_messages(),
            "parked": InboundMessage.objects.filter(state=InboundMessage.State.PARKED)[:50],
            "rejects": status.recent_rejects(),
            "refusals": status.recent_refusals(),
            "now": timezone.now(),
        }
        return TemplateResponse(request, "admin/routing/overview.html", context)


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "received_at",
        "session",
        "msg_seq_num",
        "msg_type",
        "poss_dup",
        "cl_ord_id",
        "state",
        "reason",
    )
    list_filter = ("state", "msg_type", "session", "poss_dup")
    search_fields = ("cl_ord_id", "raw")
    readonly_fields = ("readable",)
    actions = ["apply_again"]

    @admin.action(description="Apply the selected parked messages again")
    def apply_again(self, request, queryset):
        if not request.user.has_perm("trading.change_inboundmessage"):
            self.message_user(request, "You may not do that.", messages.ERROR)
            return
        count = inbox.retry(queryset)
        self.message_user(request, f"{count} parked messages put back in line.")


@admin.register(OutboxMessage)
class OutboxAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "kind",
        "cl_ord_id",
        "order",
        "session",
        "sent_seq_num",
        "sent_at",
        "answered_at",
        "status_requested_at",
    )
    list_filter = (
        "kind",
        "session",
        ("sent_at", admin.EmptyFieldListFilter),
        ("answered_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("cl_ord_id",)


@admin.register(ExecutionReportLog)
class ExecutionReportLogAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "exec_type", "cl_ord_id", "report_key", "order")
    search_fields = ("cl_ord_id", "report_key")
