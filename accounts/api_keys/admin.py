"""Staff admin of trading API keys."""

from django.contrib import admin, messages

from accounts.api_keys.models import ApiKey
from rushtrade.staff import ReadOnlyAdmin


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
        from accounts.api_keys import keys

        for key in queryset.filter(revoked_at__isnull=True):
            keys.revoke_api_key(key, request.user)
        messages.success(request, "The selected keys are revoked.")
