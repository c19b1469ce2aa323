"""Changing the profile: name, addresses, phone, e-mail and delivery preferences.

Every change is a `ProfileChange` row (who asked, when, old and new values). Most are
applied at once. The identity rules send two kinds to staff review first, as a
brokerage's customer identification programme asks:

- a legal name that is another name (`identity.name_key` differs: not merely a fixed
  case or accent or an added middle name): one login is one person, and a name change
  needs a document;
- a residence in another country (it changes the tax form, W-9 or W-8BEN, and the rules
  that apply) or in a state where the firm is not registered.

A residence in a restricted jurisdiction, or a US residential PO box, is refused, as on
the application. The checks are the application's own (`accounts.opening.rules`).
"""

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.opening import rules
from accounts.opening.models import AccountApplication, ApplicationStatus, RegisteredState
from accounts.profile.models import CustomerProfile, Delivery, ProfileChange
from accounts.users.models import User
from rushtrade.errors import FieldError, ServiceError

log = logging.getLogger(__name__)

NAME_FIELDS = ("given_name", "middle_name", "family_name")
ADDRESS_FIELDS = ("street_address", "street_address_2", "city", "state", "postal_code", "country")
MAILING_FIELDS = (
    "mailing_same_as_residential",
    "mailing_street_address",
    "mailing_city",
    "mailing_state",
    "mailing_postal_code",
    "mailing_country",
)
DELIVERY_FIELDS = ("statement_delivery", "confirmation_delivery")
FIELDS = {
    ProfileChange.Kind.NAME: NAME_FIELDS,
    ProfileChange.Kind.ADDRESS: ADDRESS_FIELDS,
    ProfileChange.Kind.MAILING_ADDRESS: MAILING_FIELDS,
    ProfileChange.Kind.PHONE: ("phone",),
    ProfileChange.Kind.DELIVERY: DELIVERY_FIELDS,
}
REGION_REQUIRED = ("US", "CA", "UA")


def _values(obj, names) -> dict:
    return {
        name: str(getattr(obj, name)) if name.endswith("country") else getattr(obj, name)
        for name in names
    }


def profile_of(user: User) -> CustomerProfile:
    """The customer's profile, made on first use from their first approved application
    (the identity their login is bound to), else from the login's own name."""
    profile = CustomerProfile.objects.filter(user=user).first()
    if profile is not None:
        return profile
    application = (
        AccountApplication.objects.filter(applicant=user, status=ApplicationStatus.APPROVED)
        .order_by("decided_at", "id")
        .first()
    )
    values = {"given_name": user.first_name, "family_name": user.last_name}
    if application is not None:
        values = _values(application, (*NAME_FIELDS, *ADDRESS_FIELDS, *MAILING_FIELDS, "phone"))
    try:
        with transaction.atomic():
            return CustomerProfile.objects.create(user=user, **values)
    except IntegrityError:  # made by a concurrent request
        return CustomerProfile.objects.get(user=user)


def _invalid(errors: dict[str, FieldError]) -> ServiceError:
    names = ", ".join(errors)
    first = next(iter(errors.values()))
    code = first.code if len(errors) == 1 else "invalid"
    return ServiceError(code, f"Please correct these fields: {names}. {first.message}", errors)


def _clean(values: dict, names: tuple[str, ...], required: tuple[str, ...]) -> dict:
    values = {name: (values.get(name) or "") for name in names}
    for name, value in values.items():
        if isinstance(value, str):
            values[name] = " ".join(value.split()) if "name" in name else value.strip()
    cleaned, errors = rules.clean_values(values)
    errors = {k: v for k, v in errors.items() if k in names}
    for name in required:
        if not values.get(name) and name not in errors:
            errors[name] = FieldError(
                "required", f"{name.replace('_', ' ').capitalize()} is required."
            )
    for name in NAME_FIELDS:
        if name in names and values.get(name) and not rules.is_person_name(values[name]):
            errors.setdefault(
                name,
                FieldError(
                    "invalid_name", "Use letters, spaces, hyphens, apostrophes and periods."
                ),
            )
    if any(rules.has_invisible_characters(str(v)) for v in values.values()):
        bad = next(k for k, v in values.items() if rules.has_invisible_characters(str(v)))
        errors.setdefault(
            bad, FieldError("invalid_characters", "This field has hidden characters.")
        )
    if errors:
        raise _invalid(errors)
    return {name: cleaned.get(name, values[name]) for name in names}


def _record(profile, kind, new: dict, by: User, *, review: str = "") -> ProfileChange:
    """Write the change; apply it unless it goes to review. In the caller's transaction,
    with the profile row locked."""
    old = _values(profile, FIELDS.get(kind, tuple(new)))
    if old == new:
        raise ServiceError("unchanged", "Nothing changed: these are the details we have.")
    if ProfileChange.objects.filter(user=profile.user, kind=kind, status="pending").exists():
        raise ServiceError(
            "change_pending",
            "A change of this kind is waiting for staff review; withdraw it first or wait "
            "for the decision.",
            status=409,
        )
    change = ProfileChange.objects.create(
        user=profile.user,
        kind=kind,
        old=old,
        new=new,
        status=ProfileChange.Status.PENDING if review else ProfileChange.Status.APPLIED,
        review_reason=review,
        requested_by=by,
    )
    if review:
        log.warning(
            "Profile change %s (%s) of user %s waits for staff review: %s",
            change.pk,
            kind,
            profile.user.pk,
            review,
        )
    else:
        _apply(profile, new)
    return change


def _apply(profile: CustomerProfile, new: dict) -> None:
    for name, value in new.items():
        setattr(profile, name, value)
    profile.save()
    if "given_name" in new:
        User.objects.filter(pk=profile.user_id).update(
            first_name=new["given_name"][:150], last_name=new["family_name"][:150]
        )


def _locked_profile(user: User) -> CustomerProfile:
    profile_of(user)
    return CustomerProfile.objects.select_for_update().get(user=user)


def _name_key(values: dict) -> str:
    from accounts.opening.identity import name_key

    return name_key(AccountApplication(**{k: values.get(k, "") for k in NAME_FIELDS}))


@transaction.atomic
def change_name(user: User, values: dict, *, by: User) -> ProfileChange:
    new = _clean(values, NAME_FIELDS, ("given_name", "family_name"))
    profile = _locked_profile(user)
    review = ""
    if _name_key(new) != _name_key(_values(profile, NAME_FIELDS)):
        review = (
            "A new legal name: one login is one person, so staff check the document "
            "(marriage certificate, court order, new ID) before it applies."
        )
    return _record(profile, ProfileChange.Kind.NAME, new, by, review=review)


@transaction.atomic
def change_address(user: User, values: dict, *, by: User) -> ProfileChange:
    country = str(values.get("country") or "").strip().upper()
    required = ("street_address", "city", "postal_code", "country")
    if country in REGION_REQUIRED:
        required = (*required, "state")
    new = _clean(values, ADDRESS_FIELDS, required)
    for name in ("country", "state"):
        blocked = rules.restricted_jurisdiction(
            new["country"], new["state"] if name == "state" else ""
        )
        if blocked:
            raise ServiceError(
                "restricted_jurisdiction",
                f"We cannot serve residents of {blocked.name} ({blocked.reason.lower()}); "
                "please contact us about your account.",
                {name: FieldError("restricted_jurisdiction", f"Restricted: {blocked.name}.")},
            )
    if new["country"] == "US" and rules.PO_BOX.search(
        f"{new['street_address']} {new['street_address_2']}"
    ):
        raise ServiceError(
            "po_box_not_allowed",
            "A US residential address cannot be a PO box; give it as the mailing address.",
            {"street_address": FieldError("po_box_not_allowed", "No PO box here.")},
        )
    profile = _locked_profile(user)
    review = ""
    if profile.country and new["country"] != str(profile.country):
        review = (
            f"A move from {rules.country_name(str(profile.country))} to "
            f"{rules.country_name(new['country'])}: the tax form (W-9 or W-8BEN) and the "
            "rules of the new country apply; staff check them before it applies."
        )
    elif new["country"] == "US" and new["state"] != profile.state:
        state = RegisteredState.objects.filter(code=new["state"]).first()
        if state is not None and not state.registered:
            review = (
                f"A move to {state.name}, where the firm is not registered: staff decide "
                "whether the account can stay open."
            )
    return _record(profile, ProfileChange.Kind.ADDRESS, new, by, review=review)


@transaction.atomic
def change_mailing_address(user: User, values: dict, *, by: User) -> ProfileChange:
    same = bool(values.get("mailing_same_as_residential"))
    if same:
        new = {name: "" for name in MAILING_FIELDS}
        new["mailing_same_as_residential"] = True
    else:
        required = (
            "mailing_street_address",
            "mailing_city",
            "mailing_postal_code",
            "mailing_country",
        )
        text = {k: v for k, v in values.items() if k != "mailing_same_as_residential"}
        new = _clean(text, MAILING_FIELDS[1:], required)
        new = {"mailing_same_as_residential": False, **new}
    profile = _locked_profile(user)
    return _record(profile, ProfileChange.Kind.MAILING_ADDRESS, new, by)


@transaction.atomic
def change_phone(user: User, phone: str, *, by: User) -> ProfileChange:
    profile = _locked_profile(user)
    region = str(profile.country) or "US"
    phone = (phone or "").strip()
    if not phone:
        raise ServiceError(
            "required", "Enter a phone number.", {"phone": FieldError("required", "Required.")}
        )
    try:
        cleaned = rules.clean_phone(phone, region)
    except ValidationError as exc:
        raise ServiceError(
            "invalid_phone",
            exc.messages[0],
            {"phone": FieldError("invalid_phone", exc.messages[0])},
        ) from exc
    return _record(profile, ProfileChange.Kind.PHONE, {"phone": cleaned}, by)


@transaction.atomic
def set_delivery(user: User, statements: str, confirmations: str, *, by: User) -> ProfileChange:
    allowed = set(Delivery.values)
    errors = {
        name: FieldError("invalid_choice", f"Choose one of: {', '.join(sorted(allowed))}.")
        for name, value in (
            ("statement_delivery", statements),
            ("confirmation_delivery", confirmations),
        )
        if value not in allowed
    }
    if errors:
        raise _invalid(errors)
    profile = _locked_profile(user)
    new = {"statement_delivery": statements, "confirmation_delivery": confirmations}
    return _record(profile, ProfileChange.Kind.DELIVERY, new, by)


def record_email_change(user: User, old: str, new: str, by: User | None = None) -> ProfileChange:
    """Audit a change of the login's primary e-mail (made and verified through allauth)."""
    return ProfileChange.objects.create(
        user=user,
        kind=ProfileChange.Kind.EMAIL,
        old={"email": old},
        new={"email": new},
        status=ProfileChange.Status.APPLIED,
        requested_by=by or user,
    )


def _decide(change: ProfileChange, staff: User, status: str, note: str) -> ProfileChange:
    change = ProfileChange.objects.select_for_update().get(pk=change.pk)
    if change.status != ProfileChange.Status.PENDING:
        raise ServiceError(
            "not_pending", f"This change is already {change.get_status_display().lower()}."
        )
    change.status, change.decided_by, change.decided_at = status, staff, timezone.now()
    change.decision_note = note
    change.save()
    return change


def _tell(change: ProfileChange) -> None:
    from accounts.profile.tasks import send_profile_change_email

    transaction.on_commit(lambda: send_profile_change_email.delay(change.pk))


@transaction.atomic
def approve_change(change: ProfileChange, staff: User, note: str = "") -> ProfileChange:
    profile = _locked_profile(change.user)
    change = _decide(change, staff, ProfileChange.Status.APPROVED, note)
    _apply(profile, change.new)
    _tell(change)
    return change


@transaction.atomic
def reject_change(change: ProfileChange, staff: User, note: str) -> ProfileChange:
    if not (note or "").strip():
        raise ServiceError(
            "reason_required",
            "Give the reason (the customer sees it).",
            {"note": FieldError("required", "Required to reject.")},
        )
    change = _decide(change, staff, ProfileChange.Status.REJECTED, note.strip())
    _tell(change)
    return change


@transaction.atomic
def withdraw_change(change: ProfileChange, user: User) -> ProfileChange:
    if change.user_id != user.pk:
        raise ServiceError("not_found", "No such change.", status=404)
    change = ProfileChange.objects.select_for_update().get(pk=change.pk)
    if change.status != ProfileChange.Status.PENDING:
        raise ServiceError("not_pending", "Only a change waiting for review can be withdrawn.")
    change.status, change.decided_at = ProfileChange.Status.WITHDRAWN, timezone.now()
    change.save()
    return change


def connect_signals() -> None:
    """Audit e-mail changes made on allauth's e-mail page."""
    from allauth.account.signals import email_changed

    def on_email_changed(sender, request, user, from_email_address, to_email_address, **kwargs):
        old = from_email_address.email if from_email_address else ""
        record_email_change(user, old, to_email_address.email)

    email_changed.connect(on_email_changed, dispatch_uid="profile-email-changed", weak=False)
