"""Account opening: drafts, submission, automated checks, staff decisions, opening.

Every state change goes through these functions (the web wizard, the API and admin
call them), is recorded as an ApplicationEvent, and e-mails the applicant.
"""

import logging
import secrets
from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_countries.fields import Country
from stdnum import luhn

from accounts.events import log as event_log
from accounts.fields import fingerprint
from accounts.opening import agreements, identity, rules
from accounts.opening.models import (
    Account,
    AccountApplication,
    AccountHolder,
    AccountStatus,
    AgreementAcceptance,
    ApplicationEvent,
    ApplicationStatus,
    TaxForm,
)
from accounts.opening.tasks import send_application_status_email
from accounts.users.models import User
from rushtrade.errors import ServiceError

log = logging.getLogger(__name__)

# The current version of each document an applicant accepts (accounts/opening/agreements.py
# publishes them; a new version is a new line there and a new template).
AGREEMENT_VERSIONS = agreements.CURRENT_VERSIONS

EDITABLE_FIELDS = frozenset(
    f.name
    for f in AccountApplication._meta.get_fields()
    if getattr(f, "editable", False)
    and not f.is_relation
    and f.name
    not in {
        "id",
        "status",
        "review_reasons",
        "created_at",
        "updated_at",
        "submitted_at",
        "decided_at",
        "tax_id_last4",
        "tax_id_fingerprint",
        "foreign_tax_id_last4",
        "tax_form",
        "tax_certified_at",
        "agreement_versions",
    }
)


class ApplicationError(ServiceError):
    """A request the application cannot take: `fields` names what is wrong."""


def _values(application: AccountApplication) -> dict:
    """The application's editable values, countries as their ISO codes."""
    values = {name: getattr(application, name) for name in EDITABLE_FIELDS}
    return {k: (v.code or "") if isinstance(v, Country) else v for k, v in values.items()}


def _record(application, actor: User | None, action: str, from_status: str, note: str = ""):
    ApplicationEvent.objects.create(
        application=application,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=application.status,
        note=note,
    )


def _notify(application: AccountApplication) -> None:
    transaction.on_commit(lambda: send_application_status_email.delay(application.pk))


def _raise_field_errors(errors: rules.Errors) -> None:
    if errors:
        names = ", ".join(errors)
        raise ApplicationError("invalid", f"Please correct these fields: {names}.", errors)


@transaction.atomic
def start_application(
    user: User,
    changes: dict | None = None,
    agreements: Iterable[str] = (),
    ip_address: str | None = None,
) -> AccountApplication:
    """A new draft for `user`, pre-filled with what we know (e-mail, name); with
    invalid `changes` nothing is created."""
    application = AccountApplication(
        applicant=user,
        email=user.email,
        given_name=user.first_name,
        family_name=user.last_name,
    )
    application.save()
    _record(application, user, "created", "")
    if changes or agreements:
        application = update_application(
            application, user, changes or {}, agreements=agreements, ip_address=ip_address
        )
    return application


@transaction.atomic
def update_application(
    application: AccountApplication,
    actor: User,
    changes: dict,
    agreements: Iterable[str] = (),
    ip_address: str | None = None,
    today: date | None = None,
) -> AccountApplication:
    """Save a step of the draft. Invalid values are refused with field errors and
    nothing is written; missing values are fine until submission."""
    application = AccountApplication.objects.select_for_update().get(pk=application.pk)
    if not application.editable:
        raise ApplicationError(
            "not_editable",
            f"An application that is {application.get_status_display().lower()} cannot be changed.",
            status=409,
        )
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        _raise_field_errors(
            {n: rules.FieldError("unknown_field", "Unknown field.") for n in sorted(unknown)}
        )
    values = _values(application) | changes
    cleaned, errors = rules.clean_values(values, today=today)
    # Errors count only for what this request changed or what depends on it.
    relevant = {n: e for n, e in errors.items() if n in changes or _depends(n, changes)}
    _raise_field_errors(relevant)

    for name in changes:
        setattr(application, name, cleaned[name])
    if "tax_id" in changes:
        application.tax_id_last4 = cleaned["tax_id"][-4:] if cleaned["tax_id"] else ""
        application.tax_id_fingerprint = fingerprint(cleaned["tax_id"]) if cleaned["tax_id"] else ""
    if "foreign_tax_id" in changes:
        value = cleaned["foreign_tax_id"]
        application.foreign_tax_id_last4 = value[-4:] if value else ""
    if application.citizenship or application.tax_residence:
        application.tax_form = TaxForm.W9 if application.is_us_person else TaxForm.W8BEN
    if "tax_certification_signature" in changes:
        application.tax_certified_at = (
            timezone.now() if cleaned["tax_certification_signature"] else None
        )
    application.save()

    now = timezone.now()
    for agreement in agreements:
        if agreement not in AGREEMENT_VERSIONS:
            raise ApplicationError(
                "invalid",
                "Unknown agreement.",
                {
                    f"agreements.{agreement}": rules.FieldError(
                        "unknown_agreement", "Unknown agreement."
                    )
                },
            )
        AgreementAcceptance.objects.get_or_create(
            application=application,
            agreement=agreement,
            version=AGREEMENT_VERSIONS[agreement],
            defaults={"accepted_at": now, "ip_address": ip_address},
        )
    return application


# A field's error also counts when a field it depends on changed (e.g. the age of
# majority depends on the state; the postal code format on the country).
_DEPENDENCIES = {
    "date_of_birth": {"state", "country"},
    "postal_code": {"country"},
    "state": {"country"},
    "street_address": {"country", "street_address_2"},
    "tax_id": {"tax_id_type", "citizenship", "tax_residence"},
    "tax_id_type": {"citizenship", "tax_residence"},
    "foreign_tax_id": {"tax_residence"},
    "phone": {"country"},
}


def _depends(field: str, changes: dict) -> bool:
    return bool(_DEPENDENCIES.get(field, set()) & set(changes))


def data_problems(application: AccountApplication) -> rules.Errors:
    """What the saved application fails under today's rules: values saved before a rule
    existed (e.g. a treaty country typed as free text) stay as they were, for staff to see."""
    _, errors = rules.clean_values(_values(application))
    return errors


def accepted_agreements(application: AccountApplication) -> set[str]:
    return {
        a.agreement
        for a in application.agreements.all()
        if AGREEMENT_VERSIONS.get(a.agreement) == a.version
    }


def step_missing(application: AccountApplication, fields: Iterable[str]) -> rules.Errors:
    """What the saved draft still lacks among `fields` (one step of the wizard), by the
    rules submission applies: a step is complete before the wizard moves on."""
    wanted = set(fields)
    missing = rules.missing_fields(_values(application), accepted_agreements(application))
    return {name: error for name, error in missing.items() if name in wanted}


@transaction.atomic
def withdraw_application(application: AccountApplication, actor: User) -> AccountApplication:
    """The applicant discards an application not yet decided (a draft, or one waiting on
    them or on review): it stays on file, withdrawn, with its history."""
    application = AccountApplication.objects.select_for_update().get(pk=application.pk)
    if application.status not in (
        ApplicationStatus.DRAFT,
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.ACTION_REQUIRED,
    ):
        raise ApplicationError(
            "not_withdrawable",
            f"An application that is {application.get_status_display().lower()} cannot be "
            "withdrawn.",
            status=409,
        )
    from_status = application.status
    application.status = ApplicationStatus.WITHDRAWN
    application.decided_at = timezone.now()
    application.save(update_fields=["status", "decided_at", "updated_at"])
    _record(application, actor, "withdrawn", from_status, "discarded by the applicant")
    log.warning(
        "application %s of user %s withdrawn by the applicant (was %s)",
        application.pk,
        application.applicant_id,
        from_status,
    )
    return application


def _duplicate_tax_id(application: AccountApplication) -> bool:
    if not application.tax_id_fingerprint:
        return False
    return (
        AccountApplication.objects.filter(tax_id_fingerprint=application.tax_id_fingerprint)
        .exclude(applicant=application.applicant)
        .exclude(status=ApplicationStatus.DRAFT)
        .exists()
    )


@transaction.atomic
def submit_application(
    application: AccountApplication, actor: User, today: date | None = None
) -> AccountApplication:
    """Check the whole application; open the account at once when it is clean and
    auto-approval is on, else hold it (submitted or action_required with reasons)."""
    # The applicant's row first: one login's submissions are checked one after the other,
    # so two applications naming different people cannot both pass the identity check.
    User.objects.select_for_update().filter(pk=application.applicant_id).first()
    application = AccountApplication.objects.select_for_update().get(pk=application.pk)
    if not application.editable:
        raise ApplicationError(
            "not_editable",
            f"This application is already {application.get_status_display().lower()}.",
            status=409,
        )
    values = _values(application)
    _, errors = rules.clean_values(values, today=today)
    errors = rules.missing_fields(values, accepted_agreements(application)) | errors
    _raise_field_errors(errors)

    from_status = application.status
    reasons = rules.review_reasons(values, _duplicate_tax_id(application))
    mismatch = identity.identity_mismatch(application)
    if mismatch:
        log.warning(
            "application %s of user %s sent to review: another identity than application %s (%s)",
            application.pk,
            application.applicant_id,
            mismatch.other.pk,
            ", ".join(mismatch.differences),
        )
        reasons.append(rules.ReviewReason("identity_mismatch", mismatch.message))
    application.submitted_at = timezone.now()
    application.agreement_versions = {
        a.agreement: a.version
        for a in application.agreements.all()
        if a.agreement in rules.required_agreements(application.account_type)
        and AGREEMENT_VERSIONS.get(a.agreement) == a.version
    }
    application.review_reasons = [r.as_dict() for r in reasons]
    if reasons:
        application.status = ApplicationStatus.ACTION_REQUIRED
        application.save()
        _record(application, actor, "submitted", from_status, "; ".join(r.code for r in reasons))
    else:
        application.status = ApplicationStatus.SUBMITTED
        application.save()
        _record(application, actor, "submitted", from_status, "all checks passed")
        if settings.ACCOUNT_AUTO_APPROVE:
            return approve_application(application, None, note="approved automatically")
    _notify(application)
    return application


def _decide(application: AccountApplication, allowed: set[str]) -> AccountApplication:
    application = AccountApplication.objects.select_for_update().get(pk=application.pk)
    if application.status not in allowed:
        raise ApplicationError(
            "invalid_status",
            f"An application that is {application.get_status_display().lower()} cannot be "
            "decided on.",
            status=409,
        )
    return application


@transaction.atomic
def approve_application(
    application: AccountApplication, staff: User | None, note: str = ""
) -> AccountApplication:
    application = _decide(
        application, {ApplicationStatus.SUBMITTED, ApplicationStatus.ACTION_REQUIRED}
    )
    from_status = application.status
    application.status = ApplicationStatus.APPROVED
    application.decided_at = timezone.now()
    application.save()
    account = open_account(application)
    _record(
        application,
        staff,
        "approved",
        from_status,
        f"{note}; account {account.account_number}".strip("; "),
    )
    _notify(application)
    return application


def _staff_message(
    application: AccountApplication,
    staff: User,
    message: str,
    *,
    to_status: str,
    code: str,
    required: str,
) -> AccountApplication:
    """A staff decision that tells the applicant why: the message is required, joins the
    application's reasons and the audit trail, and is e-mailed."""
    if not message.strip():
        raise ApplicationError(
            "reason_required",
            required,
            {"reason": rules.FieldError("required", "A reason is required.")},
        )
    application = _decide(
        application, {ApplicationStatus.SUBMITTED, ApplicationStatus.ACTION_REQUIRED}
    )
    from_status = application.status
    application.status = to_status
    if to_status == ApplicationStatus.REJECTED:
        application.decided_at = timezone.now()
    application.review_reasons = [
        *application.review_reasons,
        {"code": code, "message": message.strip()},
    ]
    application.save()
    _record(application, staff, code, from_status, message.strip())
    _notify(application)
    return application


@transaction.atomic
def reject_application(
    application: AccountApplication, staff: User, reason: str
) -> AccountApplication:
    return _staff_message(
        application,
        staff,
        reason,
        to_status=ApplicationStatus.REJECTED,
        code="rejected",
        required="Give the reason for the rejection.",
    )


@transaction.atomic
def request_information(
    application: AccountApplication, staff: User, message: str
) -> AccountApplication:
    return _staff_message(
        application,
        staff,
        message,
        to_status=ApplicationStatus.ACTION_REQUIRED,
        code="information_requested",
        required="Say what information is needed.",
    )


def new_account_number() -> str:
    body = f"{secrets.randbelow(9_000_000) + 1_000_000}"
    return f"RT{body}{luhn.calc_check_digit(body)}"


def is_valid_account_number(number: str) -> bool:
    return (
        len(number) == 10
        and number.startswith("RT")
        and number[2:].isdigit()
        and luhn.is_valid(number[2:])
    )


def open_account(application: AccountApplication) -> Account:
    """The account an approved application opens: a fresh number, active, its holder."""
    for _attempt in range(20):
        try:
            with transaction.atomic():
                account = Account.objects.create(
                    account_number=new_account_number(),
                    account_type=application.account_type,
                    status=AccountStatus.ACTIVE,
                    application=application,
                    opened_at=timezone.now(),
                )
                break
        except IntegrityError:
            if Account.objects.filter(application=application).exists():
                raise
    else:  # pragma: no cover - 20 collisions in 9 million numbers
        raise RuntimeError("Could not allocate an account number.")
    AccountHolder.objects.create(
        account=account, user=application.applicant, role=AccountHolder.Role.PRIMARY
    )
    event_log.record(account.pk, "account.opened", account_payload(account))
    return account


def account_payload(account: Account) -> dict:
    """What an account event says about the account."""
    return {
        "account_number": account.account_number,
        "account_type": account.account_type,
        "status": account.status,
        "opened_at": account.opened_at,
        "closed_at": account.closed_at,
    }


def record_status_change(account: Account, previous: str, staff: User | None) -> None:
    """The account event of a status change made by staff (admin saves the account and
    calls this in the same transaction)."""
    if previous != account.status:
        event_log.record(
            account.pk,
            "account.status_changed",
            account_payload(account)
            | {"previous_status": previous, "changed_by": staff.pk if staff else None},
        )
