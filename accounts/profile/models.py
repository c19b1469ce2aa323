"""The customer's profile: who they are and where they live now (which can change after
the account opened, unlike the application that opened it), how they want statements and
confirmations delivered, and the audit of every change."""

from django.db import models
from django_countries.fields import CountryField

from accounts.users.models import User


class Delivery(models.TextChoices):
    ELECTRONIC = "electronic", "Electronic (in the portal, with an e-mail when one is ready)"
    PAPER = "paper", "Paper, by mail to the mailing address"


class CustomerProfile(models.Model):
    """The customer's current name, addresses, phone and delivery preferences. It starts
    as a copy of the first approved application's, and changes only through
    `accounts.profile.changes` (each change audited as a `ProfileChange`)."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="profile")
    given_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +15125550100")
    street_address = models.CharField(max_length=200, blank=True)
    street_address_2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=10, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = CountryField(blank=True)
    mailing_same_as_residential = models.BooleanField(default=True)
    mailing_street_address = models.CharField(max_length=200, blank=True)
    mailing_city = models.CharField(max_length=100, blank=True)
    mailing_state = models.CharField(max_length=10, blank=True)
    mailing_postal_code = models.CharField(max_length=20, blank=True)
    mailing_country = CountryField(blank=True)
    statement_delivery = models.CharField(
        max_length=10, choices=Delivery.choices, default=Delivery.ELECTRONIC
    )
    confirmation_delivery = models.CharField(
        max_length=10, choices=Delivery.choices, default=Delivery.ELECTRONIC
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.middle_name, self.family_name) if p)


class ProfileChange(models.Model):
    """One change of the profile: who asked, when, what it was and what it became, and,
    for the changes the identity rules send to staff, who decided and why."""

    class Kind(models.TextChoices):
        NAME = "name", "Legal name"
        ADDRESS = "address", "Residential address"
        MAILING_ADDRESS = "mailing_address", "Mailing address"
        PHONE = "phone", "Phone"
        EMAIL = "email", "E-mail address"
        DELIVERY = "delivery", "Delivery preferences"

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        PENDING = "pending", "Waiting for staff review"
        APPROVED = "approved", "Approved and applied"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn by the customer"

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="profile_changes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    old = models.JSONField(default=dict, help_text="The values before the change")
    new = models.JSONField(default=dict, help_text="The values asked for")
    status = models.CharField(max_length=10, choices=Status.choices)
    review_reason = models.CharField(
        max_length=300, blank=True, help_text="Why the identity rules send it to staff"
    )
    requested_by = models.ForeignKey(
        User, null=True, on_delete=models.PROTECT, related_name="+", help_text="Who asked"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # One pending change of a kind at a time: a second one would race the first.
            models.UniqueConstraint(
                fields=["user", "kind"],
                condition=models.Q(status="pending"),
                name="one_pending_profile_change_per_kind",
            )
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="profile_change_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.user} ({self.status})"
