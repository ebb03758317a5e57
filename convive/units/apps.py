from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnitsConfig(AppConfig):
    name = "convive.units"
    label = "units"
    verbose_name = _("Units and dispatch")

    def ready(self) -> None:
        # Connects the signals that keep every process's fleet index honest (``fleet.py``).
        from convive.units import fleet  # noqa: F401
