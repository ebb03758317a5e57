from django.urls import include, path

from convive.api import api
from convive.core.admin import admin_site

urlpatterns = [
    path("", include("convive.core.urls")),
    path("accounts/", include("convive.accounts.urls")),
    path("territories/", include("convive.territories.urls")),
    path("institutions/", include("convive.institutions.urls")),
    path("audit/", include("convive.core.audit_urls")),
    path("report/", include("convive.reports.urls")),
    path("inbox/", include("convive.reports.inbox_urls")),
    path("open311/v2/", include("convive.open311.urls")),
    path("console/", include("convive.incidents.urls")),
    path("units/", include("convive.units.urls")),
    path("kpis/", include("convive.analytics.urls")),
    path("devices/", include("convive.devices.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin_site.urls),
    path("api/", api.urls),
]
