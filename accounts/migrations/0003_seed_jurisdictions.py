from django.db import migrations

# Ages of majority above 18 (for contracts): Alabama and Nebraska 19, Mississippi 21.
AGE_OF_MAJORITY = {"AL": 19, "NE": 19, "MS": 21}

# Comprehensively sanctioned jurisdictions (OFAC), by country or ISO 3166-2 region.
RESTRICTED = [
    ("CU", "", "Cuba"),
    ("IR", "", "Iran"),
    ("KP", "", "North Korea"),
    ("SY", "", "Syria"),
    ("UA", "UA-43", "Crimea region of Ukraine"),
    ("UA", "UA-40", "Sevastopol (Crimea region of Ukraine)"),
    ("UA", "UA-14", "Donetsk region of Ukraine"),
    ("UA", "UA-09", "Luhansk region of Ukraine"),
]


def seed(apps, schema_editor):
    from localflavor.us.us_states import US_STATES

    RegisteredState = apps.get_model("accounts", "RegisteredState")
    RestrictedJurisdiction = apps.get_model("accounts", "RestrictedJurisdiction")
    for code, name in US_STATES:
        RegisteredState.objects.update_or_create(
            code=code,
            defaults={"name": str(name), "registered": True,
                      "age_of_majority": AGE_OF_MAJORITY.get(code, 18)},
        )
    for country, region, name in RESTRICTED:
        RestrictedJurisdiction.objects.update_or_create(
            country=country, region=region, defaults={"name": name}
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_onboarding")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
