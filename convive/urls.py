from django.conf import settings
from django.urls import include, path

from convive.api import api
from convive.core.admin import admin_site

urlpatterns = [
    path("", include("convive.core.urls")),
    path("accounts/", include("convive.accounts.urls")),
    path("territories/", include("convive.territories.urls")),
    path("institutions/", include("convive.institutions.urls")),
    path("audit/", include("convive.core.audit_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin_site.urls),
    path("api/", api.urls),
]

if settings.DEBUG:  # uploads are served by the web server in production
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
