from django_countries import countries
from django_countries.serializer_fields import CountryField
from django_countries.serializers import CountryFieldMixin
from rest_framework import serializers

from accounts.opening.models import (
    Account,
    AccountApplication,
    Agreement,
    AgreementAcceptance,
    TaxForm,
)
from accounts.opening.onboarding import EDITABLE_FIELDS

# ISO 3166-1 alpha-2 codes: one enum in the OpenAPI schema for every country field.
COUNTRY_CHOICES = [(country.code, country.name) for country in countries]


class AgreementAcceptanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgreementAcceptance
        fields = ("agreement", "version", "accepted_at")


class AccountApplicationSerializer(CountryFieldMixin, serializers.ModelSerializer):
    """An account application. `tax_id` and `foreign_tax_id` are write-only: responses
    carry only their masked forms. `accept_agreements` records acceptances (with time,
    IP address and document version)."""

    tax_id = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=30)
    foreign_tax_id = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=40
    )
    # Blank until the application names a tax residence: "" is in the schema's enum too.
    tax_form = serializers.ChoiceField(choices=TaxForm.choices, allow_blank=True, read_only=True)
    tax_id_masked = serializers.CharField(read_only=True)
    foreign_tax_id_masked = serializers.CharField(read_only=True)
    accept_agreements = serializers.ListField(
        child=serializers.ChoiceField(choices=Agreement.choices),
        write_only=True,
        required=False,
    )
    agreements = AgreementAcceptanceSerializer(many=True, read_only=True)
    account_number = serializers.SerializerMethodField()
    citizenship = CountryField(required=False, allow_blank=True)
    tax_residence = CountryField(required=False, allow_blank=True)
    country = CountryField(required=False, allow_blank=True)
    mailing_country = CountryField(required=False, allow_blank=True)
    tax_id_country = CountryField(required=False, allow_blank=True)
    treaty_country = CountryField(required=False, allow_blank=True)

    class Meta:
        model = AccountApplication
        fields = (
            "id",
            "status",
            "review_reasons",
            "account_number",
            "tax_form",
            *sorted(EDITABLE_FIELDS - {"tax_id", "foreign_tax_id"}),
            "tax_id",
            "foreign_tax_id",
            "tax_id_masked",
            "foreign_tax_id_masked",
            "accept_agreements",
            "agreements",
            "tax_certified_at",
            "agreement_versions",
            "created_at",
            "updated_at",
            "submitted_at",
            "decided_at",
        )
        read_only_fields = (
            "id",
            "status",
            "review_reasons",
            "tax_form",
            "tax_certified_at",
            "agreement_versions",
            "created_at",
            "updated_at",
            "submitted_at",
            "decided_at",
        )

    def get_account_number(self, application) -> str | None:
        account = getattr(application, "account", None)
        return account.account_number if account else None


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ("account_number", "account_type", "status", "opened_at", "closed_at")
        read_only_fields = fields
