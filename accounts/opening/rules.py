"""The rules an account application must meet, per country: what each field may hold,
what a complete application has, and what holds it for staff review.

Pure functions over a dict of values, shared by the web wizard and the API so that
both say the same thing: each error is `FieldError(code, message)` keyed by the field.
"""

import importlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_countries import countries
from localflavor.ca.ca_provinces import PROVINCE_CHOICES
from localflavor.ua.ua_regions import UA_REGION_CHOICES
from localflavor.us.us_states import US_STATES
from stdnum import exceptions as stdnum_errors
from stdnum.us import itin, ssn
from stdnum.util import get_cc_module

from accounts.opening.models import (
    AccountType,
    Agreement,
    EmploymentStatus,
    RegisteredState,
    RestrictedJurisdiction,
    TaxIdType,
)
from rushtrade.errors import FieldError
from rushtrade.text import has_invisible_characters

OFFERED_ACCOUNT_TYPES = {AccountType.INDIVIDUAL_CASH, AccountType.INDIVIDUAL_MARGIN}
MINIMUM_AGE = 18
MAXIMUM_AGE = 120

# Countries whose residential address must name a region, with the allowed codes.
REGIONS: dict[str, dict[str, str]] = {
    "US": {code: str(name) for code, name in US_STATES},
    "CA": {code: str(name) for code, name in PROVINCE_CHOICES},
    "UA": {code: str(name) for code, name in UA_REGION_CHOICES},
}

# python-stdnum modules that check a country's personal tax id (W-8BEN line 6a).
FOREIGN_TIN_MODULES = {
    "AT": "tin",
    "AU": "tfn",
    "BE": "nn",
    "BR": "cpf",
    "CA": "sin",
    "CH": "ssn",
    "CN": "ric",
    "DE": "idnr",
    "DK": "cpr",
    "ES": "nif",
    "GB": "utr",
    "IE": "pps",
    "IN": "pan",
    "IT": "codicefiscale",
    "MX": "rfc",
    "NL": "bsn",
    "NO": "fodselsnummer",
    "PL": "pesel",
    "SE": "personnummer",
    "ZA": "tin",
}

# Every country an application names, as an ISO 3166-1 alpha-2 code.
COUNTRY_FIELDS = {
    "citizenship": "Citizenship",
    "tax_residence": "Country of tax residence",
    "country": "Country",
    "mailing_country": "Mailing country",
    "tax_id_country": "Issuing country",
    "treaty_country": "Treaty country",
}

PO_BOX = re.compile(r"\b(p\.?\s*o\.?\s*box|post\s+office\s+box|pmb)\b", re.IGNORECASE)
PASSPORT_OR_ID = re.compile(r"^[A-Z0-9]{5,20}$")
# Names are checked by Unicode category, so every script is welcome and nothing else is.
NAME_PUNCTUATION = frozenset("-'’.")
ORGANISATION_PUNCTUATION = frozenset("-'’.,&()/")
NAME_FIELDS = ("given_name", "middle_name", "family_name", "trusted_contact_name")
ORGANISATION_FIELDS = ("employer", "occupation")


def _made_of(value: str, categories: str, punctuation: frozenset) -> bool:
    if not any(unicodedata.category(char).startswith("L") for char in value):
        return False
    return all(
        unicodedata.category(char)[0] in categories
        or unicodedata.category(char) == "Zs"
        or char in punctuation
        for char in value
    )


def is_person_name(value: str) -> bool:
    """Letters and marks of any script, spaces, hyphens, apostrophes and periods, with
    at least one letter."""
    return _made_of(value, "LM", NAME_PUNCTUATION)


def is_organisation_name(value: str) -> bool:
    """A person's name's characters, plus digits and & , ( ) / (employers, occupations)."""
    return _made_of(value, "LMN", ORGANISATION_PUNCTUATION)


@dataclass(frozen=True)
class ReviewReason:
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


Errors = dict[str, FieldError]


def country_name(code: str) -> str:
    return countries.name(code) or code


def restricted_jurisdiction(country: str, region: str = "") -> RestrictedJurisdiction | None:
    if not country:
        return None
    matches = RestrictedJurisdiction.objects.filter(country=country, active=True)
    whole = matches.filter(region="").first()
    if whole or not region:
        return whole
    return matches.filter(region=region.upper()).first()


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def required_age(values: dict) -> tuple[int, str]:
    """The age of majority that applies, and where it comes from (for the message)."""
    if values.get("country") == "US" and values.get("state"):
        state = RegisteredState.objects.filter(code=values["state"]).first()
        if state and state.age_of_majority > MINIMUM_AGE:
            return state.age_of_majority, f" in {state.name}"
    return MINIMUM_AGE, ""


def _postal_code_field(country: str):
    """django-localflavor's postal code form field for a country, if it has one."""
    cc = country.upper()
    package = {"ID": "id_", "IN": "in_", "IS": "is_", "PY": "py_"}.get(cc, cc.lower())
    try:
        module = importlib.import_module(f"localflavor.{package}.forms")
    except ImportError:
        return None
    for suffix in ("ZipCodeField", "PostalCodeField", "PostcodeField", "PostCodeField"):
        field = getattr(module, f"{cc}{suffix}", None)
        if field is not None:
            return field
    return None


def clean_country(value: str, label: str = "Country") -> str:
    """An ISO 3166-1 alpha-2 code that django-countries knows, upper-cased; a name, a
    misspelled or retired code is refused (a 2-letter cut of "Germany" is Georgia's GE,
    so codes are never guessed from names)."""
    code = str(value).strip().upper()
    if len(code) != 2 or code not in dict(countries):
        raise ValidationError(
            f"{label}: choose a country from the list ({value!r} is not an ISO country code).",
            code="invalid_country",
        )
    return code


def clean_postal_code(country: str, value: str) -> str:
    field_class = _postal_code_field(country)
    if field_class is None:
        if not re.fullmatch(r"[A-Za-z0-9 \-]{2,12}", value):
            raise ValidationError("Enter a valid postal code.", code="invalid_postal_code")
        return value.strip().upper()
    try:
        return field_class().clean(value)
    except ValidationError as exc:
        raise ValidationError(
            f"Enter a valid postal code for {country_name(country)}: {exc.messages[0]}",
            code="invalid_postal_code",
        ) from exc


def clean_region(country: str, value: str) -> str:
    allowed = REGIONS.get(country)
    if not allowed:
        return value.strip()
    candidate = value.strip().upper()
    if candidate in allowed:
        return candidate
    by_name = {name.upper(): code for code, name in allowed.items()}
    if candidate in by_name:
        return by_name[candidate]
    kind = {"US": "state", "CA": "province or territory"}.get(country, "region")
    raise ValidationError(f"Choose a {kind} of {country_name(country)}.", code="invalid_region")


def clean_phone(value: str, default_region: str) -> str:
    try:
        number = phonenumbers.parse(value, default_region or "US")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            "Enter a phone number with its country code, e.g. +1 512 555 0100.",
            code="invalid_phone",
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "This phone number is not valid; include the country code, e.g. +49 30 1234567.",
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_tax_id(kind: str, value: str) -> str:
    try:
        if kind == TaxIdType.SSN:
            return ssn.validate(value)
        if kind == TaxIdType.ITIN:
            return itin.validate(value)
    except stdnum_errors.ValidationError as exc:
        label = "Social Security number" if kind == TaxIdType.SSN else "ITIN"
        raise ValidationError(
            f"This is not a valid {label}: it must be 9 digits (NNN-NN-NNNN) that the "
            "IRS or SSA could have issued.",
            code=f"invalid_{kind}",
        ) from exc
    compact = re.sub(r"[\s\-]", "", value).upper()
    if not PASSPORT_OR_ID.fullmatch(compact):
        raise ValidationError(
            "A passport or ID card number has 5 to 20 letters and digits.",
            code="invalid_document_number",
        )
    return compact


def clean_foreign_tax_id(country: str, value: str) -> str:
    module_name = FOREIGN_TIN_MODULES.get(country)
    module = get_cc_module(country.lower(), module_name) if module_name else None
    if module is not None:
        try:
            return module.compact(module.validate(value))
        except stdnum_errors.ValidationError as exc:
            raise ValidationError(
                f"This is not a valid tax identification number for {country_name(country)}.",
                code="invalid_foreign_tax_id",
            ) from exc
    compact = re.sub(r"[\s\-/.]", "", value).upper()
    if not re.fullmatch(r"[A-Z0-9]{4,30}", compact):
        raise ValidationError(
            "A tax identification number has 4 to 30 letters and digits.",
            code="invalid_foreign_tax_id",
        )
    return compact


def _run(errors: Errors, cleaned: dict, field: str, func, *args) -> None:
    try:
        cleaned[field] = func(*args)
    except ValidationError as exc:
        errors.setdefault(field, FieldError(exc.code or "invalid", exc.messages[0]))


def clean_values(values: dict, today: date | None = None) -> tuple[dict, Errors]:
    """Check and normalise an application's values (the merged draft): every non-empty
    field must be valid for the applicant's country. Missing fields are not errors
    here; `missing_fields` reports them at submission."""
    today = today or timezone.localdate()
    cleaned = dict(values)
    errors: Errors = {}
    _check_account_type(values, errors)
    _check_names(values, cleaned, errors)
    _check_countries(values, cleaned, errors)
    _check_jurisdiction(values, errors)
    _check_addresses(values, cleaned, errors)
    _check_date_of_birth(values, cleaned, errors, today)  # after the state: its age applies
    _check_phones(values, cleaned, errors)
    _check_tax_ids(values, cleaned, errors)
    return cleaned, errors


def _getter(values: dict):
    return lambda name: values.get(name) or ""


def _check_account_type(values: dict, errors: Errors) -> None:
    account_type = values.get("account_type") or ""
    if account_type and account_type not in OFFERED_ACCOUNT_TYPES:
        errors["account_type"] = FieldError(
            "account_type_unavailable",
            "Only individual cash and individual margin accounts can be opened online for now.",
        )


def _check_names(values: dict, cleaned: dict, errors: Errors) -> None:
    get = _getter(values)
    for name, value in values.items():
        if isinstance(value, str) and has_invisible_characters(value):
            errors[name] = FieldError(
                "invalid_characters",
                "Remove the invisible or control characters (such as zero-width or "
                "right-to-left marks) from this field.",
            )
    for name in (*NAME_FIELDS, *ORGANISATION_FIELDS):
        value = unicodedata.normalize("NFC", get(name).strip())
        cleaned[name] = value
        if not value or name in errors:
            continue
        if name in NAME_FIELDS and not is_person_name(value):
            errors[name] = FieldError(
                "invalid_name", "Use letters, spaces, hyphens, apostrophes and periods only."
            )
        elif name in ORGANISATION_FIELDS and not is_organisation_name(value):
            errors[name] = FieldError(
                "invalid_name",
                "Use letters, digits, spaces and the characters - ' . , & ( ) / only.",
            )


def _check_countries(values: dict, cleaned: dict, errors: Errors) -> None:
    """Countries are ISO codes from the list; a W-8BEN treaty is claimed for the
    country of tax residence, by applicants who are not US persons."""
    get = _getter(values)
    for name, label in COUNTRY_FIELDS.items():
        if get(name):
            _run(errors, cleaned, name, clean_country, get(name), label)
    if get("treaty_country") and "treaty_country" not in errors:
        treaty, residence = cleaned["treaty_country"], get("tax_residence")
        if "US" in (get("citizenship"), residence):
            errors["treaty_country"] = FieldError(
                "treaty_not_applicable",
                "Treaty country: treaty benefits are claimed on Form W-8BEN, by applicants "
                "who are not US persons.",
            )
        elif residence and treaty != residence:
            errors["treaty_country"] = FieldError(
                "treaty_country_mismatch",
                f"Treaty country: a treaty is claimed for your country of tax residence "
                f"({country_name(residence)}), not {country_name(treaty)}.",
            )
    if get("treaty_article") and not get("treaty_country"):
        errors["treaty_article"] = FieldError(
            "treaty_country_required",
            "Treaty article: choose the treaty country this article belongs to.",
        )


def _check_jurisdiction(values: dict, errors: Errors) -> None:
    """Residence and tax residence decide; say so as early as it is known."""
    get = _getter(values)
    for name in ("tax_residence", "country"):
        blocked = restricted_jurisdiction(get(name))
        if blocked:
            errors[name] = FieldError(
                "restricted_jurisdiction",
                f"We cannot open accounts for residents of {country_name(get(name))} "
                f"({blocked.reason.lower()}).",
            )


def _check_addresses(values: dict, cleaned: dict, errors: Errors) -> None:
    """The residential address (its region may be restricted) and the mailing address."""
    get = _getter(values)
    country = get("country")
    if country and get("state"):
        _run(errors, cleaned, "state", clean_region, country, get("state"))
        region = cleaned.get("state", "")
        blocked = restricted_jurisdiction(country, region) if "state" not in errors else None
        if blocked and "country" not in errors:
            errors["state"] = FieldError(
                "restricted_jurisdiction",
                f"We cannot open accounts for residents of the {blocked.name} "
                f"({blocked.reason.lower()}).",
            )
    if country and get("postal_code"):
        _run(errors, cleaned, "postal_code", clean_postal_code, country, get("postal_code"))
    if country == "US" and PO_BOX.search(get("street_address") + " " + get("street_address_2")):
        errors["street_address"] = FieldError(
            "po_box_not_allowed",
            "A US residential address cannot be a PO box; give the mailing address separately.",
        )
    mailing_country = get("mailing_country")
    if mailing_country and get("mailing_state"):
        _run(errors, cleaned, "mailing_state", clean_region, mailing_country, get("mailing_state"))
    if mailing_country and get("mailing_postal_code"):
        _run(
            errors,
            cleaned,
            "mailing_postal_code",
            clean_postal_code,
            mailing_country,
            get("mailing_postal_code"),
        )


def _check_date_of_birth(values: dict, cleaned: dict, errors: Errors, today: date) -> None:
    born = values.get("date_of_birth")
    if not born:
        return
    if born > today:
        errors["date_of_birth"] = FieldError(
            "date_in_future", "The date of birth cannot be in the future."
        )
    elif age_on(born, today) > MAXIMUM_AGE:
        errors["date_of_birth"] = FieldError(
            "implausible_date", "Check the date of birth: that would make you over 120."
        )
    else:
        minimum, where = required_age(cleaned if "state" not in errors else values)
        if age_on(born, today) < minimum:
            errors["date_of_birth"] = FieldError(
                "under_age", f"You must be at least {minimum} to open an account{where}."
            )


def _check_phones(values: dict, cleaned: dict, errors: Errors) -> None:
    get = _getter(values)
    default_region = get("country") or get("tax_residence") or get("citizenship") or "US"
    for name in ("phone", "trusted_contact_phone"):
        if get(name):
            _run(errors, cleaned, name, clean_phone, get(name), default_region)


def _check_tax_ids(values: dict, cleaned: dict, errors: Errors) -> None:
    """US persons give an SSN or ITIN, others a passport or national id; a foreign tax id
    is checked against the tax residence's rules."""
    get = _getter(values)
    us_person = "US" in (get("citizenship"), get("tax_residence"))
    kind = get("tax_id_type")
    if kind:
        if us_person and kind not in (TaxIdType.SSN, TaxIdType.ITIN):
            errors["tax_id_type"] = FieldError(
                "us_person_needs_ssn_or_itin",
                "US citizens and US tax residents give a Social Security number or an ITIN.",
            )
        elif not us_person and get("citizenship") and kind in (TaxIdType.SSN, TaxIdType.ITIN):
            errors["tax_id_type"] = FieldError(
                "foreign_person_needs_document",
                "If you are not a US person, give your passport or national ID number.",
            )
    if kind and get("tax_id") and "tax_id_type" not in errors:
        _run(errors, cleaned, "tax_id", clean_tax_id, kind, get("tax_id"))
    tin_country = get("tax_residence")
    if get("foreign_tax_id") and tin_country and tin_country != "US":
        _run(
            errors,
            cleaned,
            "foreign_tax_id",
            clean_foreign_tax_id,
            tin_country,
            get("foreign_tax_id"),
        )


def missing_fields(values: dict, accepted_agreements: set[str]) -> Errors:
    """What a complete application still lacks, as field errors with code `required`."""
    get = lambda name: values.get(name)  # noqa: E731
    needed = [
        "account_type",
        "given_name",
        "family_name",
        "date_of_birth",
        "citizenship",
        "tax_residence",
        "email",
        "phone",
        "street_address",
        "city",
        "country",
        "tax_id_type",
        "tax_id",
        "employment_status",
        "annual_income",
        "net_worth",
        "liquid_net_worth",
        "investment_objective",
        "investment_experience",
        "risk_tolerance",
        "tax_certification_signature",
    ]
    country = get("country")
    if country in REGIONS:
        needed.append("state")
    if country and (country in REGIONS or _postal_code_field(country)):
        needed.append("postal_code")
    if get("mailing_same_as_residential") is False:
        needed += ["mailing_street_address", "mailing_city", "mailing_country"]
    if get("tax_id_type") in (TaxIdType.PASSPORT, TaxIdType.NATIONAL_ID):
        needed.append("tax_id_country")
    us_person = "US" in (get("citizenship"), get("tax_residence"))
    if not us_person and not get("foreign_tax_id_not_issued"):
        needed.append("foreign_tax_id")
    if get("employment_status") in (EmploymentStatus.EMPLOYED, EmploymentStatus.SELF_EMPLOYED):
        needed += ["employer", "occupation"]
    for flag, detail in (
        ("is_control_person", "control_person_companies"),
        ("is_affiliated_with_broker", "affiliated_firm"),
        ("is_politically_exposed", "politically_exposed_details"),
    ):
        needed.append(flag)
        if get(flag):
            needed.append(detail)
    needed.append("trusted_contact_declined")
    if get("trusted_contact_declined") is False:
        needed.append("trusted_contact_name")
        if not (get("trusted_contact_email") or get("trusted_contact_phone")):
            needed.append("trusted_contact_phone")

    errors: Errors = {}
    for name in needed:
        value = get(name)
        if value is None or value == "":
            errors[name] = FieldError("required", "This field is required.")
    for agreement in required_agreements(get("account_type")):
        if agreement not in accepted_agreements:
            errors[f"agreements.{agreement}"] = FieldError(
                "agreement_required", f"Accept the {Agreement(agreement).label.lower()}."
            )
    signature = get("tax_certification_signature") or ""
    if signature and not signature_matches(signature, values):
        errors["tax_certification_signature"] = FieldError(
            "signature_mismatch", "Sign by typing your legal name exactly as given above."
        )
    return errors


def required_agreements(account_type: str | None) -> list[str]:
    agreements = [Agreement.CUSTOMER, Agreement.SELF_DIRECTED, Agreement.E_SIGN]
    if account_type == AccountType.INDIVIDUAL_MARGIN:
        agreements.append(Agreement.MARGIN)
    return [str(a) for a in agreements]


def signature_matches(signature: str, values: dict) -> bool:
    def norm(text: str) -> str:
        return " ".join(text.lower().split())

    full = norm(
        " ".join(
            filter(
                None,
                [values.get("given_name"), values.get("middle_name"), values.get("family_name")],
            )
        )
    )
    short = norm(" ".join(filter(None, [values.get("given_name"), values.get("family_name")])))
    return norm(signature) in (full, short)


def review_reasons(values: dict, duplicate_tax_id: bool) -> list[ReviewReason]:
    """What holds a complete application for staff review instead of opening at once."""
    reasons = []
    if duplicate_tax_id:
        reasons.append(
            ReviewReason(
                "duplicate_tax_id",
                "This tax id is already on file for another customer; we need to confirm "
                "your identity.",
            )
        )
    if values.get("is_affiliated_with_broker"):
        reasons.append(
            ReviewReason(
                "broker_dealer_affiliation",
                "You are employed by or associated with a broker-dealer, FINRA or an exchange: "
                "we need your employer's written consent (FINRA Rule 3210).",
            )
        )
    if values.get("is_control_person"):
        reasons.append(
            ReviewReason(
                "control_person",
                "You are a control person or 10% holder of a public company: staff confirm "
                "the companies named.",
            )
        )
    if values.get("is_politically_exposed"):
        reasons.append(
            ReviewReason(
                "politically_exposed_person",
                "Politically exposed persons are reviewed by our compliance staff.",
            )
        )
    citizenship = values.get("citizenship")
    if citizenship and restricted_jurisdiction(citizenship):
        reasons.append(
            ReviewReason(
                "restricted_citizenship",
                f"Citizens of {country_name(citizenship)} are reviewed by our compliance staff.",
            )
        )
    if values.get("country") == "US" and values.get("state"):
        state = RegisteredState.objects.filter(code=values["state"]).first()
        if state and not state.registered:
            reasons.append(
                ReviewReason(
                    "state_not_registered",
                    f"We are completing our registration in {state.name}; staff will review "
                    "your application.",
                )
            )
    return reasons
