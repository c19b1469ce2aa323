"""Staff admin of applications, registered states and restricted jurisdictions."""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django_countries import countries

from accounts.opening import identity, onboarding
from accounts.opening.models import (
    AccountApplication,
    AgreementAcceptance,
    ApplicationEvent,
    ApplicationStatus,
    RegisteredState,
    RestrictedJurisdiction,
)
from rushtrade.staff import ReadOnlyInline, StaffActionMixin


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


class FlaggedDataFilter(admin.SimpleListFilter):
    """Applications whose saved data a later check flagged (see migration 0009)."""

    title = "flagged data"
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", "Flagged for checking")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(events__action="data_flagged").distinct()
        return queryset


class CountryFilter(admin.SimpleListFilter):
    """Countries of residence that occur in the applications, most frequent first, at most
    `SHOWN` (the search box finds the rest): never a list of every country in the world."""

    title = "country of residence"
    parameter_name = "country"
    SHOWN = 12

    def lookups(self, request, model_admin):
        rows = (
            AccountApplication.objects.exclude(country="")
            .values("country")
            .annotate(n=Count("id"))
            .order_by("-n", "country")
        )
        shown = list(rows[: self.SHOWN])
        choices = [
            (r["country"], f"{countries.name(r['country']) or r['country']} ({r['n']})")
            for r in shown
        ]
        if rows.count() > self.SHOWN:
            choices.append(("other", "Other countries"))
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == "other":
            top = [c for c, _ in self.lookup_choices if c != "other"]
            return queryset.exclude(country__in=top).exclude(country="")
        return queryset.filter(country=value)


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
    list_filter = (
        "status",
        "account_type",
        CountryFilter,
        "tax_form",
        FlaggedDataFilter,
        "submitted_at",
    )
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
        return [
            "check_results",
            "applicant_history",
            "same_person_elsewhere",
            "tax_id_masked",
            "foreign_tax_id_masked",
            *names,
        ]

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
        problems = onboarding.data_problems(obj)
        flagged = obj.events.filter(action="data_flagged")
        rows = [
            *((r.get("code"), r.get("message")) for r in obj.review_reasons),
            *((f"{name}: {e.code}", e.message) for name, e in problems.items()),
            *(("data_flagged", event.note) for event in flagged),
        ]
        if not rows:
            return "No flags." if obj.submitted_at else "Not submitted yet."
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li><code>{}</code>: {}</li>", rows)
        )

    @admin.display(description="this login's other applications and accounts")
    def applicant_history(self, obj):

        rows = [
            (
                reverse("admin:accounts_accountapplication_change", args=[other.pk]),
                other.pk,
                other.get_status_display(),
                f"{other.given_name} {other.family_name}",
                other.date_of_birth or "–",
                other.tax_id_masked or "–",
                getattr(getattr(other, "account", None), "account_number", "–"),
                ", ".join(identity.differences(obj, other)) or "same person",
            )
            for other in identity.other_applications(obj)
        ]
        if not rows:
            return "None: this is the login's only application."
        return format_html(
            "<table data-testid='applicant-history'><tr><th>application</th><th>status</th>"
            "<th>name</th><th>born</th><th>tax id</th><th>account</th><th>differs in</th>"
            "</tr>{}</table>",
            format_html_join(
                "",
                "<tr><td><a href='{}'>#{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                "<td>{}</td><td>{}</td></tr>",
                rows,
            ),
        )

    @admin.display(description="the same person on other logins")
    def same_person_elsewhere(self, obj):

        rows = [
            (
                reverse("admin:accounts_accountapplication_change", args=[other.pk]),
                other.pk,
                other.applicant.email,
                other.get_status_display(),
                "tax id"
                if other.tax_id_fingerprint == obj.tax_id_fingerprint
                else "name and birth date",
            )
            for other in identity.same_person_elsewhere(obj)[:50]
        ]
        if not rows:
            return "No other login names this person."
        return format_html(
            "<table data-testid='same-person'><tr><th>application</th><th>login</th>"
            "<th>status</th><th>matches on</th></tr>{}</table>",
            format_html_join(
                "", "<tr><td><a href='{}'>#{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
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
