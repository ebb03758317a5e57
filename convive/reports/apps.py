from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "convive.reports"
    label = "reports"
    verbose_name = _("Citizen reports")

    def ready(self) -> None:
        # Connects the signals that renew the intake's catalogue copy in every process.
        from convive.reports import cache  # noqa: F401
