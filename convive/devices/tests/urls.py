"""The site's URLs with the devices webhook mounted at ``/devices/`` (as ``convive/urls.py``
is to mount it)."""

from django.urls import include, path

from convive.urls import urlpatterns as site_urlpatterns

urlpatterns = [*site_urlpatterns, path("devices/", include("convive.devices.urls"))]
