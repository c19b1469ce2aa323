"""The customer's profile and settings page: name, addresses, phone, e-mail (allauth's
page, with its verification and step-up) and delivery preferences, with the pending
changes and the history of every change."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.profile import changes
from accounts.profile.forms import (
    AddressForm,
    DeliveryForm,
    MailingAddressForm,
    NameForm,
    PhoneForm,
)
from accounts.profile.models import ProfileChange
from rushtrade.errors import ServiceError
from rushtrade.forms import add_service_errors

SECTIONS = {
    "name": (NameForm, changes.NAME_FIELDS),
    "address": (AddressForm, changes.ADDRESS_FIELDS),
    "mailing": (MailingAddressForm, changes.MAILING_FIELDS),
    "phone": (PhoneForm, ("phone",)),
    "delivery": (DeliveryForm, changes.DELIVERY_FIELDS),
}


def _perform(section: str, user, data: dict) -> ProfileChange:
    if section == "name":
        return changes.change_name(user, data, by=user)
    if section == "address":
        return changes.change_address(user, data, by=user)
    if section == "mailing":
        return changes.change_mailing_address(user, data, by=user)
    if section == "phone":
        return changes.change_phone(user, data["phone"], by=user)
    return changes.set_delivery(
        user, data["statement_delivery"], data["confirmation_delivery"], by=user
    )


def _render(request, profile, bound=None, status=200):
    forms = {}
    for section, (form_class, names) in SECTIONS.items():
        if bound and bound[0] == section:
            forms[section] = bound[1]
        else:
            initial = {name: getattr(profile, name) for name in names}
            for name in ("country", "mailing_country"):
                if name in initial:
                    initial[name] = str(initial[name])
            forms[section] = form_class(initial=initial, prefix=section)
    history = ProfileChange.objects.filter(user=request.user).select_related(
        "requested_by", "decided_by"
    )
    return render(
        request,
        "profile/profile.html",
        {
            "profile": profile,
            "forms": forms,
            "pending": [c for c in history if c.status == ProfileChange.Status.PENDING],
            "history": history[:50],
        },
        status=status,
    )


@never_cache
@login_required
def profile_page(request):
    return _render(request, changes.profile_of(request.user))


@require_POST
@login_required
def change(request, section: str):
    if section not in SECTIONS:
        raise Http404
    profile = changes.profile_of(request.user)
    form = SECTIONS[section][0](request.POST, prefix=section)
    if not form.is_valid():
        return _render(request, profile, (section, form), status=400)
    try:
        done = _perform(section, request.user, form.cleaned_data)
    except ServiceError as error:
        add_service_errors(form, error)
        return _render(request, profile, (section, form), status=400)
    if done.status == ProfileChange.Status.PENDING:
        messages.warning(
            request,
            f"Your {done.get_kind_display().lower()} change is waiting for review by our "
            f"staff: {done.review_reason} We will e-mail you when it is decided.",
        )
    else:
        messages.success(request, f"Your {done.get_kind_display().lower()} is changed.")
    return redirect("profile")


@require_POST
@login_required
def withdraw(request, change_id: int):
    pending = get_object_or_404(ProfileChange, pk=change_id, user=request.user)
    try:
        changes.withdraw_change(pending, request.user)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Your {pending.get_kind_display().lower()} change is withdrawn.")
    return redirect("profile")
