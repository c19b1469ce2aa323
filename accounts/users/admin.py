"""Staff admin of users."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.opening.models import AccountApplication, AccountHolder
from accounts.users.forms import StaffUserChangeForm, StaffUserCreationForm
from accounts.users.models import ApiToken, SecurityEvent, User
from rushtrade.staff import ReadOnlyAdmin, ReadOnlyInline


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
    readonly_fields = ("security_activity",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
        ("Security", {"fields": ("security_activity",)}),
    )

    @admin.display(description="Security activity")
    def security_activity(self, user):
        if user.pk is None:
            return "—"
        events = SecurityEvent.objects.filter(user=user)
        url = reverse("admin:accounts_securityevent_changelist") + f"?user__id__exact={user.pk}"
        last = events.first()
        return format_html(
            '<a href="{}">{} events</a>{}',
            url,
            events.count(),
            f" (last: {last.get_kind_display()}, {timezone.localtime(last.at):%Y-%m-%d %H:%M})"
            if last
            else "",
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


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """API tokens: staff see them (never a key) and can revoke them."""

    list_display = ("name", "user", "key_prefix", "created_at", "expires_at", "last_used_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "revoked_reason")
    search_fields = ("user__email", "name", "key_prefix")
    list_select_related = ("user",)
    exclude = ("key_hash",)
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        from accounts.users import tokens

        for token in queryset.filter(revoked_at__isnull=True):
            tokens.revoke_token(token, tokens.RevokeReason.STAFF)
        messages.success(request, "The selected tokens are revoked.")


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    """Every login's security activity, append-only: staff read it, nobody edits it."""

    list_display = ("at", "user", "kind", "detail", "ip_address", "emailed")
    list_filter = ("kind", "at")
    search_fields = ("user__email", "detail")
    list_select_related = ("user",)
    date_hierarchy = "at"

    def lookup_allowed(self, lookup, value, request=None):
        # The user page links to one user's activity.
        return lookup == "user__id__exact" or super().lookup_allowed(lookup, value, request)
