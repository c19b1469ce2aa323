"""Building blocks of the staff admin: read-only admins and confirmed staff actions."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from rushtrade.errors import ServiceError


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


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
