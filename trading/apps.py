from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"
    verbose_name = "Trading"

    def ready(self) -> None:
        from accounts.money import ledger
        from trading.orders.entry import long_market_value

        ledger.register_long_market_value(long_market_value)

        from accounts.money import position_changes
        from trading.orders.adjustments import recent_changes

        position_changes.register_source(recent_changes)

        from rushtrade.admin_site import register_home_warning
        from trading.clearing.reconcile import home_warnings

        register_home_warning(home_warnings)

        from django.core import checks

        from trading.clearing.sftp import check_settings

        checks.register(check_settings)

        from trading import tasks
        from trading.orders import fill_emails

        fill_emails.connect(lambda execution_ids: tasks.send_fill_emails.delay(execution_ids))
