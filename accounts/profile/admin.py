"""Staff admin of customer profiles and the review of profile changes."""

from django import forms
from django.contrib import admin
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts.profile import changes
from accounts.profile.models import CustomerProfile, ProfileChange
from rushtrade.staff import ReadOnlyAdmin, StaffActionMixin


class ProfileDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "Approve and apply the change"), ("reject", "Reject")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        help_text="Required to reject (the customer sees it); for an approval, what was "
        "checked (e.g. the document seen).",
    )


@admin.register(ProfileChange)
class ProfileChangeAdmin(StaffActionMixin, ReadOnlyAdmin):
    list_display = ("id", "requested_at", "user", "kind", "status", "review_reason")
    list_filter = ("status", "kind", "requested_at")
    search_fields = ("user__email", "user__last_name")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "kind",
        "status",
        "comparison",
        "review_reason",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "decide_link",
    )
    fields = readonly_fields

    @admin.display(description="old → new")
    def comparison(self, obj):
        names = list(dict.fromkeys([*obj.old, *obj.new]))
        return format_html(
            "<table><tr><th>field</th><th>old</th><th>new</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td><strong>{}</strong></td></tr>",
                ((n, obj.old.get(n, ""), obj.new.get(n, "")) for n in names),
            ),
        )

    @admin.display(description="decision")
    def decide_link(self, obj):
        if obj.status != ProfileChange.Status.PENDING:
            return "–"
        url = reverse("admin:accounts_profilechange_decide", args=[obj.pk])
        return format_html('<a class="button" href="{}">Decide</a>', url)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("accounts.change_profilechange")

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="accounts_profilechange_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk):
        change = get_object_or_404(ProfileChange.objects.select_related("user"), pk=pk)

        def perform(form):
            note = form.cleaned_data["note"]
            if form.cleaned_data["decision"] == "approve":
                return changes.approve_change(change, request.user, note)
            return changes.reject_change(change, request.user, note)

        return self.staff_action_view(
            request,
            change,
            ProfileDecisionForm(request.POST or None),
            perform,
            title=f"Decide on the {change.get_kind_display().lower()} change of {change.user}",
            allowed=change.status == ProfileChange.Status.PENDING,
            summary=f"{change.review_reason} Old: {change.old}. New: {change.new}.",
        )


@admin.register(CustomerProfile)
class CustomerProfileAdmin(ReadOnlyAdmin):
    list_display = ("user", "given_name", "family_name", "country", "state", "phone")
    search_fields = ("user__email", "family_name", "given_name")
    list_select_related = ("user",)
