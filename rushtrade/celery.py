"""The Celery app: configured from Django settings (CELERY_*), tasks autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rushtrade.settings")

app = Celery("rushtrade")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def ensure_filesystem_broker_folder(sender: Celery, **kwargs) -> None:
    """The embedded broker is a folder (kombu's filesystem transport): make it exist."""
    if sender.conf.broker_url == "filesystem://":
        options = sender.conf.broker_transport_options
        for key in ("data_folder_in", "data_folder_out"):
            if options.get(key):
                os.makedirs(options[key], exist_ok=True)
