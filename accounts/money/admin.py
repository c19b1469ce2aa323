"""Staff admin of accounts, the ledger, holds, bank links and transfers."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts.money import funding, ledger
from accounts.money.models import (
    BankLink,
    Hold,
    JournalEntry,
    LedgerAccount,
    Posting,
    Transfer,
    TransferStatus,
)
from accounts.opening import onboarding
from accounts.opening.models import (
    Account,
    AccountHolder,
)
from rushtrade.staff import ReadOnlyAdmin, ReadOnlyInline, StaffActionMixin


class AccountHolderInline(ReadOnlyInline):
    model = AccountHolder
    fields = ("user", "role")
    readonly_fields = fields


@admin.register(Account)
class AccountAdmin(StaffActionMixin, admin.ModelAdmin):
    list_display = ("account_number", "account_type", "status", "primary_holder", "opened_at")
    list_filter = ("status", "account_type")
    search_fields = ("account_number", "holders__email", "holders__last_name")
    readonly_fields = (
        "account_number",
        "account_type",
        "application_link",
        "opened_at",
        "balances",
    )
    fields = (
        "account_number",
        "account_type",
        "status",
        "balances",
        "application_link",
        "opened_at",
        "closed_at",
    )
    change_form_template = "admin/accounts/account/change_form.html"

    def save_model(self, request, obj, form, change):
        # The admin's change view is one transaction: the status and its event together.
        super().save_model(request, obj, form, change)
        if change and "status" in form.changed_data:
            onboarding.record_status_change(obj, form.initial.get("status"), request.user)

    @admin.display(description="balances")
    def balances(self, obj):
        b = ledger.balances(obj)
        return format_html_join(
            ", ",
            "{}: ${}",
            (
                (label, f"{value:,.2f}")
                for label, value in (
                    ("cash", b.cash),
                    ("settled", b.settled_cash),
                    ("unsettled", b.unsettled_cash),
                    ("holds", b.holds),
                    ("withdrawable", b.withdrawable),
                    ("buying power", b.buying_power),
                )
            ),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/post-entry/",
                self.admin_site.admin_view(self.post_entry_view),
                name="accounts_account_post_entry",
            ),
            *super().get_urls(),
        ]

    def post_entry_view(self, request, pk):
        account = get_object_or_404(Account, pk=pk)
        if not request.user.has_perm("accounts.add_journalentry"):
            raise PermissionDenied

        def perform(form):
            data = form.cleaned_data
            return ledger.post_manual_entry(
                account,
                data["kind"],
                data["amount"],
                data["description"],
                data["reason"],
                request.user,
            )

        return self.staff_action_view(
            request,
            account,
            ManualEntryForm(request.POST or None),
            perform,
            title="Post a manual entry",
            summary=self.balances(account),
        )

    inlines = [AccountHolderInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("accountholder_set__user")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="primary holder")
    def primary_holder(self, obj):
        for holding in obj.accountholder_set.all():
            if holding.role == AccountHolder.Role.PRIMARY:
                return holding.user.email
        return "–"

    @admin.display(description="application")
    def application_link(self, obj):
        if not obj.application_id:
            return "–"
        url = reverse("admin:accounts_accountapplication_change", args=[obj.application_id])
        return format_html('<a href="{}">Application {}</a>', url, obj.application_id)


# --- Ledger and funding ------------------------------------------------------------------------


class ManualEntryForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k.value, k.label) for k in ledger.MANUAL_KINDS])
    amount = forms.CharField(
        help_text="Dollars. Adjustments are signed (negative debits the "
        "customer); fees debit and interest credits the customer."
    )
    description = forms.CharField(max_length=200, help_text="What the customer sees.")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        help_text="Why (required; kept with the entry).",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), required=False)


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = ("ledger_account", "amount", "settles_on")
    readonly_fields = fields


@admin.register(JournalEntry)
class JournalEntryAdmin(StaffActionMixin, ReadOnlyAdmin):
    """The ledger, read-only: corrections are reversing entries."""

    list_display = ("id", "created_at", "kind", "account", "description", "created_by")
    list_filter = ("kind", "created_at")
    search_fields = ("description", "account__account_number", "reason")
    list_select_related = ("account", "created_by")
    fields = (
        "kind",
        "account",
        "description",
        "reason",
        "created_by",
        "created_at",
        "reverses",
        "idempotency_key",
    )
    readonly_fields = fields
    inlines = [PostingInline]
    change_form_template = "admin/accounts/journalentry/change_form.html"

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    def get_urls(self):
        return [
            path(
                "<int:pk>/reverse/",
                self.admin_site.admin_view(self.reverse_view),
                name="accounts_journalentry_reverse",
            ),
            *super().get_urls(),
        ]

    def reverse_view(self, request, pk):
        entry = get_object_or_404(JournalEntry, pk=pk)
        return self.staff_action_view(
            request,
            entry,
            ReasonForm(request.POST or None),
            lambda form: ledger.reverse_entry(entry, request.user, form.cleaned_data["reason"]),
            title="Post a reversing entry",
        )

    def has_change_permission(self, request, obj=None):
        # No field is editable; "change" here only means the right to post a reversal.
        return request.user.has_perm("accounts.add_journalentry")


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "kind", "account", "balance")
    list_filter = ("kind",)
    search_fields = ("account__account_number",)
    list_select_related = ("account",)


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ("account", "amount", "reason", "reference", "created_at", "released_at")
    list_filter = ("reason", ("released_at", admin.EmptyFieldListFilter))
    search_fields = ("account__account_number", "reference")


@admin.register(BankLink)
class BankLinkAdmin(ReadOnlyAdmin):
    list_display = (
        "account",
        "nickname",
        "routing_number",
        "masked_number",
        "bank_account_type",
        "active",
        "created_at",
    )
    list_filter = ("active", "bank_account_type")
    search_fields = ("account__account_number", "routing_number", "bank_account_last4")
    exclude = ("bank_account_number", "bank_account_fingerprint")


class TransferDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("complete", "Approve: the money has moved"), ("reject", "Reject")],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        help_text="Required to reject; the customer sees it.",
    )


@admin.register(Transfer)
class TransferAdmin(StaffActionMixin, ReadOnlyAdmin):
    list_display = (
        "id",
        "account",
        "direction",
        "amount",
        "status",
        "requested_at",
        "completed_at",
    )
    list_filter = ("status", "direction", "requested_at")
    search_fields = ("account__account_number", "client_transfer_id")
    list_select_related = ("account",)
    readonly_fields = (
        "account",
        "bank_link",
        "direction",
        "amount",
        "status",
        "client_transfer_id",
        "requested_by",
        "requested_at",
        "submitted_at",
        "completed_at",
        "decided_by",
        "reason",
        "journal_entry",
    )
    fields = readonly_fields
    change_form_template = "admin/accounts/transfer/change_form.html"

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("accounts.change_transfer")

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="accounts_transfer_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk):
        transfer = get_object_or_404(Transfer, pk=pk)

        def perform(form):
            if form.cleaned_data["decision"] == "complete":
                return funding.complete_transfer(transfer, request.user)
            return funding.reject_transfer(transfer, request.user, form.cleaned_data["reason"])

        return self.staff_action_view(
            request,
            transfer,
            TransferDecisionForm(request.POST or None),
            perform,
            title="Decide on transfer",
            allowed=transfer.status in (TransferStatus.REQUESTED, TransferStatus.PENDING),
        )
