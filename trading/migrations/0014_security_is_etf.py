# The symbol directory's ETF flag on securities (issue 13).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("trading", "0013_watchlists_account_configurations"),
    ]

    operations = [
        migrations.AddField(
            model_name="security",
            name="is_etf",
            field=models.BooleanField(default=False, help_text="An exchange-traded fund (the symbol directory's flag)", verbose_name="ETF"),
        ),
    ]
