"""Account applications, the rules they are checked against, and the accounts they open."""

from django.db import models
from django_countries.fields import CountryField

from accounts.fields import EncryptedTextField
from accounts.users.models import User

# --- Onboarding: where the firm does business -------------------------------------------


class RegisteredState(models.Model):
    """A US state (or DC) and whether the firm is registered there as a broker-dealer.
    Applications from a state where it is not are held for staff review."""

    code = models.CharField(max_length=2, primary_key=True)
    name = models.CharField(max_length=64)
    registered = models.BooleanField(default=True)
    registered_on = models.DateField(null=True, blank=True)
    age_of_majority = models.PositiveSmallIntegerField(default=18)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class RestrictedJurisdiction(models.Model):
    """A country, or a region of one (ISO 3166-2 code), whose residents cannot open
    accounts (e.g. comprehensively sanctioned jurisdictions)."""

    country = CountryField()
    region = models.CharField(
        max_length=6, blank=True, help_text="ISO 3166-2 code (e.g. UA-43); blank = whole country"
    )
    name = models.CharField(max_length=100)
    reason = models.CharField(max_length=200, default="Comprehensively sanctioned jurisdiction")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["country", "region"]
        constraints = [
            models.UniqueConstraint(fields=["country", "region"], name="restricted_country_region")
        ]

    def __str__(self) -> str:
        return self.name


# --- Onboarding: the application ---------------------------------------------------------


class AccountType(models.TextChoices):
    INDIVIDUAL_CASH = "individual_cash", "Individual cash"
    INDIVIDUAL_MARGIN = "individual_margin", "Individual margin"
    JOINT = "joint", "Joint (two holders)"
    TRADITIONAL_IRA = "traditional_ira", "Traditional IRA"
    ROTH_IRA = "roth_ira", "Roth IRA"


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    ACTION_REQUIRED = "action_required", "Action required"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Review reasons the applicant answers (by changing the application and submitting it
# again); every other reason waits on staff (compliance review).
APPLICANT_ACTION_REASONS = frozenset({"information_requested"})


class TaxIdType(models.TextChoices):
    SSN = "ssn", "US Social Security number"
    ITIN = "itin", "US Individual Taxpayer Identification number"
    PASSPORT = "passport", "Passport number"
    NATIONAL_ID = "national_id", "National identity card number"


class EmploymentStatus(models.TextChoices):
    EMPLOYED = "employed", "Employed"
    SELF_EMPLOYED = "self_employed", "Self-employed"
    RETIRED = "retired", "Retired"
    STUDENT = "student", "Student"
    UNEMPLOYED = "unemployed", "Not employed"


class MoneyRange(models.TextChoices):
    UNDER_25K = "0-25000", "Under $25,000"
    R25K_50K = "25000-50000", "$25,000 – $50,000"
    R50K_100K = "50000-100000", "$50,000 – $100,000"
    R100K_250K = "100000-250000", "$100,000 – $250,000"
    R250K_1M = "250000-1000000", "$250,000 – $1,000,000"
    OVER_1M = "1000000-", "Over $1,000,000"


class InvestmentObjective(models.TextChoices):
    CAPITAL_PRESERVATION = "capital_preservation", "Capital preservation"
    INCOME = "income", "Income"
    GROWTH = "growth", "Growth"
    SPECULATION = "speculation", "Speculation"


class InvestmentExperience(models.TextChoices):
    NONE = "none", "None"
    LIMITED = "limited", "Limited (under 2 years)"
    GOOD = "good", "Good (2–5 years)"
    EXTENSIVE = "extensive", "Extensive (over 5 years)"


class RiskTolerance(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class TaxForm(models.TextChoices):
    W9 = "w9", "Form W-9 (US person)"
    W8BEN = "w8ben", "Form W-8BEN (not a US person)"


class AccountApplication(models.Model):
    """An application for a brokerage account, saved as a draft at every step."""

    applicant = models.ForeignKey(User, on_delete=models.PROTECT, related_name="applications")
    status = models.CharField(
        max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT
    )
    account_type = models.CharField(max_length=20, choices=AccountType.choices, blank=True)

    # Identity
    given_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    citizenship = CountryField(blank=True)
    tax_residence = CountryField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +15125550100")

    # Residential address (and mailing address if different)
    street_address = models.CharField(max_length=200, blank=True)
    street_address_2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=10, blank=True, help_text="State, province or region")
    postal_code = models.CharField(max_length=20, blank=True)
    country = CountryField(blank=True)
    mailing_same_as_residential = models.BooleanField(default=True)
    mailing_street_address = models.CharField(max_length=200, blank=True)
    mailing_city = models.CharField(max_length=100, blank=True)
    mailing_state = models.CharField(max_length=10, blank=True)
    mailing_postal_code = models.CharField(max_length=20, blank=True)
    mailing_country = CountryField(blank=True)

    # Tax identity: encrypted at rest, masked everywhere, fingerprinted for duplicates
    tax_id_type = models.CharField(max_length=12, choices=TaxIdType.choices, blank=True)
    tax_id = EncryptedTextField(blank=True)
    tax_id_last4 = models.CharField(max_length=4, blank=True)
    tax_id_fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    tax_id_country = CountryField(blank=True, help_text="Issuing country (passport, ID card)")
    foreign_tax_id = EncryptedTextField(blank=True)
    foreign_tax_id_last4 = models.CharField(max_length=4, blank=True)
    foreign_tax_id_not_issued = models.BooleanField(default=False)

    # Employment and finances
    employment_status = models.CharField(
        max_length=20, choices=EmploymentStatus.choices, blank=True
    )
    employer = models.CharField(max_length=200, blank=True)
    occupation = models.CharField(max_length=100, blank=True)
    annual_income = models.CharField(max_length=20, choices=MoneyRange.choices, blank=True)
    net_worth = models.CharField(max_length=20, choices=MoneyRange.choices, blank=True)
    liquid_net_worth = models.CharField(max_length=20, choices=MoneyRange.choices, blank=True)
    investment_objective = models.CharField(
        max_length=24, choices=InvestmentObjective.choices, blank=True
    )
    investment_experience = models.CharField(
        max_length=12, choices=InvestmentExperience.choices, blank=True
    )
    risk_tolerance = models.CharField(max_length=8, choices=RiskTolerance.choices, blank=True)

    # Disclosures (None = not answered yet)
    is_control_person = models.BooleanField(null=True, blank=True)
    control_person_companies = models.CharField(max_length=300, blank=True)
    is_affiliated_with_broker = models.BooleanField(null=True, blank=True)
    affiliated_firm = models.CharField(max_length=200, blank=True)
    is_politically_exposed = models.BooleanField(null=True, blank=True)
    politically_exposed_details = models.CharField(max_length=300, blank=True)

    # Trusted contact person (FINRA Rule 4512): asked for, may be declined
    trusted_contact_declined = models.BooleanField(null=True, blank=True)
    trusted_contact_name = models.CharField(max_length=200, blank=True)
    trusted_contact_email = models.EmailField(blank=True)
    trusted_contact_phone = models.CharField(max_length=20, blank=True)
    trusted_contact_relationship = models.CharField(max_length=100, blank=True)

    # Tax certification, signed by typing one's name
    tax_form = models.CharField(max_length=8, choices=TaxForm.choices, blank=True)
    treaty_country = CountryField(blank=True)
    treaty_article = models.CharField(max_length=50, blank=True)
    tax_certification_signature = models.CharField(max_length=200, blank=True)
    tax_certified_at = models.DateTimeField(null=True, blank=True)
    # The version of each agreement accepted, as it stood when the application was
    # submitted (the acceptances themselves, with time and IP address, are rows of
    # AgreementAcceptance).
    agreement_versions = models.JSONField(default=dict, blank=True)

    # Review
    review_reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "submitted_at"])]

    def __str__(self) -> str:
        name = " ".join(p for p in (self.given_name, self.family_name) if p) or self.applicant_id
        return f"Application {self.pk} ({name}, {self.get_status_display()})"

    @property
    def tax_id_masked(self) -> str:
        return ("•" * 5 + self.tax_id_last4) if self.tax_id_last4 else ""

    @property
    def foreign_tax_id_masked(self) -> str:
        return ("•" * 5 + self.foreign_tax_id_last4) if self.foreign_tax_id_last4 else ""

    @property
    def is_us_person(self) -> bool:
        return self.citizenship == "US" or self.tax_residence == "US"

    @property
    def editable(self) -> bool:
        return self.status in (ApplicationStatus.DRAFT, ApplicationStatus.ACTION_REQUIRED)

    @property
    def awaits_applicant(self) -> bool:
        """Action required of the applicant (staff asked for something), as opposed to
        an application held for compliance review, where the applicant only waits."""
        return self.status == ApplicationStatus.ACTION_REQUIRED and any(
            reason.get("code") in APPLICANT_ACTION_REASONS for reason in self.review_reasons
        )

    @property
    def awaits_review(self) -> bool:
        return self.status == ApplicationStatus.SUBMITTED or (
            self.status == ApplicationStatus.ACTION_REQUIRED and not self.awaits_applicant
        )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.middle_name, self.family_name) if p)


class Agreement(models.TextChoices):
    CUSTOMER = "customer_agreement", "Customer agreement"
    SELF_DIRECTED = "self_directed_acknowledgement", "Self-directed, no-advice acknowledgement"
    MARGIN = "margin_agreement", "Margin agreement"
    E_SIGN = "esign_consent", "E-sign consent"


class AgreementAcceptance(models.Model):
    """One agreement accepted: which document and version, when, from which IP address."""

    application = models.ForeignKey(
        AccountApplication, on_delete=models.CASCADE, related_name="agreements"
    )
    agreement = models.CharField(max_length=40, choices=Agreement.choices)
    version = models.CharField(max_length=20)
    accepted_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "agreement", "version"], name="agreement_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_agreement_display()} v{self.version}"


class ApplicationEvent(models.Model):
    """The audit trail of an application: who did what, when (actor null = the system)."""

    application = models.ForeignKey(
        AccountApplication, on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT)
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.from_status}→{self.to_status}"


# --- Accounts ------------------------------------------------------------------------------


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESTRICTED = "restricted", "Restricted"
    CLOSED = "closed", "Closed"


class Account(models.Model):
    """A brokerage account. Number format: "RT" + 7 digits + a Luhn check digit over the
    7 digits (e.g. RT12345674); balances live in the cash ledger."""

    account_number = models.CharField(max_length=10, unique=True)
    account_type = models.CharField(max_length=20, choices=AccountType.choices)
    status = models.CharField(
        max_length=12, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    application = models.OneToOneField(
        AccountApplication, on_delete=models.PROTECT, related_name="account", null=True
    )
    holders = models.ManyToManyField(User, through="AccountHolder", related_name="accounts")
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["account_number"]

    def __str__(self) -> str:
        return f"{self.account_number} ({self.get_account_type_display()})"

    @property
    def is_margin(self) -> bool:
        """Buying power follows Reg T on a margin account, settled cash on a cash one."""
        return self.account_type == AccountType.INDIVIDUAL_MARGIN


class AccountHolder(models.Model):
    class Role(models.TextChoices):
        PRIMARY = "primary", "Primary holder"
        JOINT = "joint", "Joint holder"

    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.PROTECT)
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.PRIMARY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="one_holding_per_user"),
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(role="primary"),
                name="one_primary_holder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} of {self.account}"
