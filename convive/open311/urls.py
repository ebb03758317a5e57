"""``/open311/v2/``: every GeoReport v2 resource, each as ``.json`` and ``.xml``."""

from django.urls import path, register_converter

from convive.open311 import views


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class CodeConverter:
    """A service code, a request id or a token: no dot, so that ``.json`` ends it."""

    regex = "[^/.]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "open311_format")
register_converter(CodeConverter, "open311_code")

app_name = "open311"
urlpatterns = [
    path("discovery.<open311_format:fmt>", views.discovery, name="discovery"),
    path("services.<open311_format:fmt>", views.services, name="services"),
    path(
        "services/<open311_code:service_code>.<open311_format:fmt>",
        views.service_definition,
        name="service_definition",
    ),
    path("requests.<open311_format:fmt>", views.service_requests, name="requests"),
    path(
        "requests/<open311_code:service_request_id>.<open311_format:fmt>",
        views.service_request,
        name="request",
    ),
    path(
        "tokens/<open311_code:token>.<open311_format:fmt>",
        views.request_from_token,
        name="token",
    ),
]
