"""/api/v1: account applications and accounts."""

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.opening import onboarding
from accounts.opening.models import Account, AccountApplication
from accounts.opening.serializers import AccountApplicationSerializer, AccountSerializer
from accounts.users.api import client_ip
from rushtrade.errors import ErrorSerializer

# --- Account applications and accounts ------------------------------------------------------

US_EXAMPLE = {
    "account_type": "individual_cash",
    "given_name": "Taylor",
    "family_name": "Rivera",
    "date_of_birth": "1988-04-12",
    "citizenship": "US",
    "tax_residence": "US",
    "email": "taylor@example.com",
    "phone": "+15125550143",
    "street_address": "1100 Congress Ave",
    "city": "Austin",
    "state": "TX",
    "postal_code": "78701",
    "country": "US",
    "tax_id_type": "ssn",
    "tax_id": "123-45-6789",
    "employment_status": "employed",
    "employer": "Lone Star Robotics",
    "occupation": "Engineer",
    "annual_income": "100000-250000",
    "net_worth": "250000-1000000",
    "liquid_net_worth": "100000-250000",
    "investment_objective": "growth",
    "investment_experience": "good",
    "risk_tolerance": "medium",
    "is_control_person": False,
    "is_affiliated_with_broker": False,
    "is_politically_exposed": False,
    "trusted_contact_declined": True,
    "tax_certification_signature": "Taylor Rivera",
    "accept_agreements": ["customer_agreement", "self_directed_acknowledgement", "esign_consent"],
}
FOREIGN_EXAMPLE = {
    "account_type": "individual_cash",
    "given_name": "Jonas",
    "family_name": "Becker",
    "date_of_birth": "1979-11-02",
    "citizenship": "DE",
    "tax_residence": "DE",
    "email": "jonas@example.de",
    "phone": "+49 30 901820",
    "street_address": "Unter den Linden 5",
    "city": "Berlin",
    "state": "BE",
    "postal_code": "10117",
    "country": "DE",
    "tax_id_type": "passport",
    "tax_id": "C01X00T47",
    "tax_id_country": "DE",
    "foreign_tax_id": "36 574 261 809",
    "employment_status": "self_employed",
    "employer": "Becker Design",
    "occupation": "Architect",
    "annual_income": "50000-100000",
    "net_worth": "250000-1000000",
    "liquid_net_worth": "50000-100000",
    "investment_objective": "growth",
    "investment_experience": "extensive",
    "risk_tolerance": "high",
    "is_control_person": False,
    "is_affiliated_with_broker": False,
    "is_politically_exposed": False,
    "trusted_contact_declined": False,
    "trusted_contact_name": "Anna Becker",
    "trusted_contact_phone": "+49 30 901821",
    "trusted_contact_relationship": "Spouse",
    "treaty_country": "DE",
    "treaty_article": "Article 10",
    "tax_certification_signature": "Jonas Becker",
    "accept_agreements": ["customer_agreement", "self_directed_acknowledgement", "esign_consent"],
}
APPLICATION_EXAMPLES = [
    OpenApiExample("US applicant (Texas)", value=US_EXAMPLE, request_only=True),
    OpenApiExample("Foreign applicant (Germany)", value=FOREIGN_EXAMPLE, request_only=True),
]
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid fields, named in `fields`."),
    404: OpenApiResponse(ErrorSerializer, description="No such application of yours."),
    409: OpenApiResponse(ErrorSerializer, description="Not editable in its status."),
}


def _changes(serializer) -> tuple[dict, list[str]]:
    data = dict(serializer.validated_data)
    agreements = data.pop("accept_agreements", [])
    return data, agreements


@extend_schema_view(
    list=extend_schema(summary="Your account applications"),
    retrieve=extend_schema(
        summary="One of your applications",
        responses={200: AccountApplicationSerializer, 404: ERRORS[404]},
    ),
    create=extend_schema(
        summary="Start an application (a draft)",
        examples=APPLICATION_EXAMPLES,
        responses={201: AccountApplicationSerializer, 400: ERRORS[400]},
    ),
    partial_update=extend_schema(
        summary="Save fields of a draft",
        examples=APPLICATION_EXAMPLES,
        responses={200: AccountApplicationSerializer, **ERRORS},
    ),
)
class ApplicationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AccountApplicationSerializer
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            AccountApplication.objects.filter(applicant=self.request.user)
            .select_related("account")
            .prefetch_related("agreements")
        )

    def perform_create(self, serializer):
        changes, agreements = _changes(serializer)
        serializer.instance = onboarding.start_application(
            self.request.user,
            changes,
            agreements=agreements,
            ip_address=client_ip(self.request),
        )

    def perform_update(self, serializer):
        changes, agreements = _changes(serializer)
        serializer.instance = onboarding.update_application(
            serializer.instance,
            self.request.user,
            changes,
            agreements=agreements,
            ip_address=client_ip(self.request),
        )

    @extend_schema(
        summary="Submit the application for checks and opening",
        request=None,
        responses={200: AccountApplicationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        application = onboarding.submit_application(self.get_object(), request.user)
        application = self.get_queryset().get(pk=application.pk)
        return Response(self.get_serializer(application).data)


@extend_schema_view(
    list=extend_schema(summary="Your accounts"),
    retrieve=extend_schema(summary="One of your accounts"),
)
class AccountViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AccountSerializer
    lookup_field = "account_number"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Account.objects.none()
        return Account.objects.filter(holders=self.request.user)
