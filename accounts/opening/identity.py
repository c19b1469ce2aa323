"""One person per login: the first approved holder identity binds the login.

An identity is the tax id (by its fingerprint), the legal name and the date of birth.
An application naming another identity than the login's bound one (or than the login's
other applications in progress) goes to staff review with the reason; staff see the
applicant's other applications and accounts, and the applications of other logins that
name the same person.
"""

import unicodedata
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.opening.models import AccountApplication, ApplicationStatus
from accounts.users.models import User

IN_PROGRESS = (ApplicationStatus.SUBMITTED, ApplicationStatus.ACTION_REQUIRED)


def name_key(application: AccountApplication) -> str:
    """The legal name compared without case, accents, middle names or spacing."""
    text = f"{application.given_name} {application.family_name}"
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join(
        "".join(
            c for c in decomposed if (c.isalnum() and not unicodedata.combining(c)) or c == " "
        ).split()
    )


@dataclass(frozen=True)
class Mismatch:
    other: AccountApplication
    differences: list[str]  # "tax id", "date of birth", "name"

    @property
    def message(self) -> str:
        bound = "approved" if self.other.status == ApplicationStatus.APPROVED else "pending"
        return (
            f"This login's {bound} application #{self.other.pk} names another person "
            f"(a different {', '.join(self.differences)}): one login is for one person. Staff "
            "will confirm your identity; to open an account for someone else, they need a "
            "login of their own."
        )


def differences(application: AccountApplication, other: AccountApplication) -> list[str]:
    found = []
    if (
        application.tax_id_fingerprint
        and other.tax_id_fingerprint
        and application.tax_id_fingerprint != other.tax_id_fingerprint
    ):
        found.append("tax id")
    if (
        application.date_of_birth
        and other.date_of_birth
        and application.date_of_birth != other.date_of_birth
    ):
        found.append("date of birth")
    if name_key(application) and name_key(other) and name_key(application) != name_key(other):
        found.append("name")
    return found


def bound_application(user: User) -> AccountApplication | None:
    """The login's first approved application: its identity binds the login."""
    return (
        AccountApplication.objects.filter(applicant=user, status=ApplicationStatus.APPROVED)
        .order_by("decided_at", "pk")
        .first()
    )


def identity_mismatch(application: AccountApplication) -> Mismatch | None:
    """How `application` differs from the login's bound identity or, before one is bound,
    from the login's other applications in progress. Call with the applicant's row
    locked so that two submissions of one login are compared one after the other."""
    bound = bound_application(application.applicant)
    others = (
        [bound]
        if bound is not None
        else AccountApplication.objects.filter(
            applicant=application.applicant, status__in=IN_PROGRESS
        )
        .exclude(pk=application.pk)
        .order_by("submitted_at", "pk")
    )
    for other in others:
        found = differences(application, other)
        if found:
            return Mismatch(other, found)
    return None


def other_applications(application: AccountApplication) -> QuerySet[AccountApplication]:
    """The applicant's other applications (for staff review), with their accounts."""
    return (
        AccountApplication.objects.filter(applicant=application.applicant)
        .exclude(pk=application.pk)
        .exclude(status=ApplicationStatus.DRAFT)
        .select_related("account")
        .order_by("-submitted_at", "-pk")
    )


def same_person_elsewhere(application: AccountApplication) -> QuerySet[AccountApplication]:
    """Applications of other logins naming the same person: the same tax id, or the same
    name and date of birth."""
    match = Q(pk__in=[])
    if application.tax_id_fingerprint:
        match |= Q(tax_id_fingerprint=application.tax_id_fingerprint)
    if application.date_of_birth and application.family_name:
        candidates = AccountApplication.objects.filter(
            date_of_birth=application.date_of_birth,
            family_name__iexact=application.family_name,
        ).exclude(applicant=application.applicant)
        key = name_key(application)
        match |= Q(pk__in=[a.pk for a in candidates[:200] if name_key(a) == key])
    return (
        AccountApplication.objects.filter(match)
        .exclude(applicant=application.applicant)
        .exclude(status=ApplicationStatus.DRAFT)
        .select_related("applicant")
        .order_by("-submitted_at", "-pk")
    )
