from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from rushtrade.errors import ServiceError

from . import funding, ledger, onboarding
from .forms import StaffUserChangeForm, StaffUserCreationForm
from .models import (
    Account,
    AccountApplication,
    AccountHolder,
    AgreementAcceptance,
    ApiKey,
    ApplicationEvent,
    ApplicationStatus,
    BankLink,
    Hold,
    JournalEntry,
    LedgerAccount,
    Posting,
    RegisteredState,
    RestrictedJurisdiction,
    Transfer,
    TransferStatus,
    User,
)


class StaffActionMixin:
    """A form page for a staff action on one object (approve, reject, post an entry...):
    the action is a service function; its ServiceError shows on the form."""

    def staff_action_view(self, request, obj, form, perform, *, title, allowed=True, summary=""):
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        if request.method == "POST" and allowed and form.is_valid():
            try:
                result = perform(form)
            except ServiceError as exc:
                for name, field_error in exc.fields.items():
                    form.add_error(name if name in form.fields else None, field_error.message)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                self.message_user(request, f"Done: {result}.", messages.SUCCESS)
                opts = obj._meta
                return redirect(
                    reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": obj._meta,
            "original": obj,
            "form": form,
            "title": title,
            "allowed": allowed,
            "summary": summary,
        }
        return TemplateResponse(request, "admin/staff_action.html", context)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ApplicationInline(ReadOnlyInline):
    model = AccountApplication
    fk_name = "applicant"
    fields = ("id", "account_type", "status", "submitted_at", "decided_at")
    readonly_fields = fields
    show_change_link = True


class HoldingInline(ReadOnlyInline):
    model = AccountHolder
    fk_name = "user"
    fields = ("account", "role")
    readonly_fields = fields
    verbose_name = "account held"
    verbose_name_plural = "accounts held"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = StaffUserChangeForm
    add_form = StaffUserCreationForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "date_joined")
    search_fields = ("email", "first_name", "last_name")
    inlines = [ApplicationInline, HoldingInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )


@admin.register(RegisteredState)
class RegisteredStateAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "registered", "registered_on", "age_of_majority")
    list_editable = ("registered",)
    list_filter = ("registered",)
    search_fields = ("code", "name")


@admin.register(RestrictedJurisdiction)
class RestrictedJurisdictionAdmin(admin.ModelAdmin):
    list_display = ("name", "country", "region", "reason", "active")
    list_filter = ("active",)
    search_fields = ("name", "region")


class EventInline(ReadOnlyInline):
    model = ApplicationEvent
    fields = ("created_at", "actor", "action", "from_status", "to_status", "note")
    readonly_fields = fields
    verbose_name_plural = "history (who did what, when)"


class AgreementInline(ReadOnlyInline):
    model = AgreementAcceptance
    fields = ("agreement", "version", "accepted_at", "ip_address")
    readonly_fields = fields


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("approve", "Approve and open the account"),
            ("request_information", "Request information from the applicant"),
            ("reject", "Reject"),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        required=False,
        help_text="Required to reject (the reason) or to request information (what is "
        "needed); the applicant sees it.",
    )


IDENTITY_NUMBER_FIELDS = {"tax_id", "foreign_tax_id", "tax_id_fingerprint"}


@admin.register(AccountApplication)
class AccountApplicationAdmin(StaffActionMixin, admin.ModelAdmin):
    """The review queue. Applicant data is read-only here (it changes only through the
    applicant's own validated steps); identity numbers show masked."""

    list_display = (
        "id",
        "applicant",
        "full_name",
        "account_type",
        "country",
        "state",
        "status",
        "flags",
        "submitted_at",
    )
    list_filter = ("status", "account_type", "tax_form", "country", "submitted_at")
    search_fields = (
        "applicant__email",
        "given_name",
        "family_name",
        "email",
        "tax_id_last4",
        "account__account_number",
    )
    ordering = ("-submitted_at", "-created_at")
    list_select_related = ("applicant",)
    inlines = [AgreementInline, EventInline]
    exclude = tuple(IDENTITY_NUMBER_FIELDS)
    change_form_template = "admin/accounts/accountapplication/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        names = [f.name for f in self.model._meta.fields if f.name not in IDENTITY_NUMBER_FIELDS]
        return ["check_results", "tax_id_masked", "foreign_tax_id_masked", *names]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="name")
    def full_name(self, obj):
        return f"{obj.given_name} {obj.family_name}".strip()

    @admin.display(description="flags")
    def flags(self, obj):
        return ", ".join(r.get("code", "") for r in obj.review_reasons) or "–"

    @admin.display(description="check results")
    def check_results(self, obj):
        if not obj.review_reasons:
            return "No flags." if obj.submitted_at else "Not submitted yet."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><code>{}</code>: {}</li>",
                ((r.get("code"), r.get("message")) for r in obj.review_reasons),
            ),
        )

    @admin.display(description="tax id")
    def tax_id_masked(self, obj):
        return f"{obj.get_tax_id_type_display()}: {obj.tax_id_masked}" if obj.tax_id_last4 else "–"

    @admin.display(description="foreign tax id")
    def foreign_tax_id_masked(self, obj):
        return obj.foreign_tax_id_masked or "–"

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="accounts_accountapplication_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk):
        application = get_object_or_404(AccountApplication, pk=pk)

        def perform(form):
            decision, note = form.cleaned_data["decision"], form.cleaned_data["reason"]
            if decision == "approve":
                return onboarding.approve_application(application, request.user, note)
            if decision == "reject":
                return onboarding.reject_application(application, request.user, note)
            return onboarding.request_information(application, request.user, note)

        return self.staff_action_view(
            request,
            application,
            DecisionForm(request.POST or None),
            perform,
            title=f"Decide on application {application.pk}",
            allowed=application.status
            in (ApplicationStatus.SUBMITTED, ApplicationStatus.ACTION_REQUIRED),
            summary=self.check_results(application),
        )


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


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Trading API keys: staff see them (never a secret) and can revoke them; keys are
    made by customers on their page or with `manage.py create_api_key`."""

    list_display = ("key_id", "account", "name", "created_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("key_id", "account__account_number", "name")
    list_select_related = ("account",)
    exclude = ("secret_hash",)
    actions = ["revoke"]

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        from . import api_keys

        for key in queryset.filter(revoked_at__isnull=True):
            api_keys.revoke_api_key(key, request.user)
        messages.success(request, "The selected keys are revoked.")
