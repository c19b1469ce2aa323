from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customers and accounts"

    def ready(self) -> None:
        from accounts.profile import changes
        from accounts.users import activity, tokens

        tokens.connect_signals()
        activity.connect_signals()
        changes.connect_signals()
