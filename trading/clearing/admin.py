"""Staff admin of clearing: the Reconciliation page (breaks by age, accept or explain),
the daily summaries, the files sent and received, corporate actions."""

from django import forms
from django.contrib import admin
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from rushtrade.staff import ReadOnlyAdmin, StaffActionMixin
from trading.clearing import breaks, reconcile
from trading.clearing.models import (
    Break,
    BreakKind,
    ClearingFile,
    CorporateAction,
    ReconciliationRun,
)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        help_text="Kept with the adjusting entry and the break.",
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        help_text="What explains the difference (kept with the break).",
    )


def _as_of():
    last = ReconciliationRun.objects.order_by("-business_date").first()
    return last.business_date if last else None


@admin.register(Break)
class ReconciliationAdmin(StaffActionMixin, ReadOnlyAdmin):
    """The Reconciliation page: every break, open ones first by age."""

    change_list_template = "admin/clearing/break_change_list.html"
    # What to act on first, then the figures (the table scrolls sideways when narrow).
    list_display = (
        "kind",
        "what",
        "difference_figure",
        "age",
        "work",
        "ours_figure",
        "theirs_figure",
        "first_seen_on",
        "status",
    )
    list_display_links = ("kind",)
    list_filter = ("status", "kind", "first_seen_on")
    search_fields = ("account_number", "symbol", "reference", "note")
    readonly_fields = (
        "key",
        "kind",
        "status",
        "account_number",
        "symbol",
        "reference",
        "ours",
        "theirs",
        "difference",
        "first_seen_on",
        "last_seen_on",
        "resolved_on",
        "age",
        "note",
        "decided_by",
        "decided_at",
        "journal_entry",
        "position_adjustment",
        "work",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("status", "first_seen_on", "id")

    @admin.display(description="Account / symbol or trade")
    def what(self, obj):
        return " · ".join(x for x in (obj.account_number, obj.symbol, obj.reference) if x)

    @staticmethod
    def _figure(obj, value):
        if value is None:
            return "–"
        if obj.kind == BreakKind.CASH or (obj.kind == BreakKind.TRADE_MISMATCH and value % 1):
            return f"${value:,.2f}"
        return f"{value:,.0f}"

    @admin.display(description="Ours", ordering="ours")
    def ours_figure(self, obj):
        return self._figure(obj, obj.ours)

    @admin.display(description="Clearing's", ordering="theirs")
    def theirs_figure(self, obj):
        return self._figure(obj, obj.theirs)

    @admin.display(description="Difference", ordering="difference")
    def difference_figure(self, obj):
        if obj.ours is None or obj.theirs is None:
            return "–"
        return self._figure(obj, obj.difference)

    @admin.display(description="Age (business days)")
    def age(self, obj):
        as_of = getattr(self, "_as_of", None) or _as_of()
        if obj.status not in (Break.Status.OPEN, Break.Status.EXPLAINED) or as_of is None:
            return "–"
        return reconcile.age(obj.first_seen_on, as_of)

    @admin.display(description="Work it")
    def work(self, obj):
        if obj.status not in breaks.WORKABLE:
            return "–"
        links = []
        if obj.kind in breaks.ACCEPTABLE:
            links.append(
                format_html(
                    '<a href="{}">Accept clearing\'s figure</a>',
                    reverse("admin:trading_break_accept", args=[obj.pk]),
                )
            )
        if obj.status == Break.Status.OPEN:
            links.append(
                format_html(
                    '<a href="{}">Mark explained</a>',
                    reverse("admin:trading_break_explain", args=[obj.pk]),
                )
            )
        return format_html(" · ".join(["{}"] * len(links)), *links) if links else "–"

    def changelist_view(self, request, extra_context=None):
        self._as_of = _as_of()
        last = ReconciliationRun.objects.order_by("-business_date", "-id").first()
        context = {
            "title": "Reconciliation",
            "last_run": last,
            "overdue": reconcile.overdue_breaks(self._as_of).count() if self._as_of else 0,
            "open_count": Break.objects.filter(status=Break.Status.OPEN).count(),
            "rejected_files": ClearingFile.objects.filter(
                status=ClearingFile.Status.REJECTED
            ).order_by("-id")[:5],
        }
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def has_change_permission(self, request, obj=None):
        # Nothing is edited in place: "change" is the right to accept or explain.
        return request.user.has_perm("trading.change_break")

    def get_urls(self):
        return [
            path(
                "<int:pk>/accept/",
                self.admin_site.admin_view(self.accept_view),
                name="trading_break_accept",
            ),
            path(
                "<int:pk>/explain/",
                self.admin_site.admin_view(self.explain_view),
                name="trading_break_explain",
            ),
            *super().get_urls(),
        ]

    def accept_view(self, request, pk):
        item = get_object_or_404(Break, pk=pk)
        return self.staff_action_view(
            request,
            item,
            ReasonForm(request.POST or None),
            lambda form: breaks.accept_clearing_figure(
                item, request.user, form.cleaned_data["reason"]
            ),
            title="Accept the clearing firm's figure",
            allowed=item.status in breaks.WORKABLE and item.kind in breaks.ACCEPTABLE,
            summary=f"{item}: ours {self._figure(item, item.ours)}, the clearing firm's "
            f"{self._figure(item, item.theirs)}. An adjusting "
            f"{'journal entry' if item.kind == 'cash' else 'position change'} of "
            f"{self._figure(item, item.difference)} brings the portal's books to the clearing "
            "firm's figure.",
        )

    def explain_view(self, request, pk):
        item = get_object_or_404(Break, pk=pk)
        return self.staff_action_view(
            request,
            item,
            NoteForm(request.POST or None),
            lambda form: breaks.mark_explained(item, request.user, form.cleaned_data["note"]),
            title="Mark explained",
            allowed=item.status == Break.Status.OPEN,
            summary=f"{item}: ours {self._figure(item, item.ours)}, the clearing firm's "
            f"{self._figure(item, item.theirs)}.",
        )


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = (
        "business_date",
        "finished_at",
        "accounts_compared",
        "positions_compared",
        "trades_compared",
        "breaks_by_kind",
        "new_breaks",
        "resolved_breaks",
        "open_breaks",
    )


@admin.register(ClearingFile)
class ClearingFileAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "direction",
        "file_type",
        "business_date",
        "sequence",
        "status",
        "record_count",
        "control_totals",
        "line",
        "reason",
        "delivery",
        "delivered_at",
        "delivery_attempts",
        "delivery_error",
        "created_at",
    )
    list_filter = ("status", "direction", "file_type", "delivery")
    search_fields = ("name", "reason", "delivery_error")


@admin.register(CorporateAction)
class CorporateActionAdmin(ReadOnlyAdmin):
    list_display = (
        "action_id",
        "kind",
        "symbol",
        "ex_date",
        "pay_date",
        "rate",
        "ratio_new",
        "ratio_old",
        "applied_at",
        "accounts_applied",
    )
    list_filter = ("kind", ("applied_at", admin.EmptyFieldListFilter))
    search_fields = ("action_id", "symbol")
