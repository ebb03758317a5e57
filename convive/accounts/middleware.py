"""Staff must pass the second factor before anything but the login pages."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from convive.accounts.permissions import needs_two_factor

_ALWAYS_ALLOWED_PREFIXES = ("/static/", "/i18n/", "/healthz")


class StaffTwoFactorMiddleware:
    def __init__(self, get_response):  # noqa: ANN001
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if needs_two_factor(user) and not user.is_verified() and not self._exempt(request.path):
            if request.path.startswith("/api/"):
                body = {
                    "ok": False,
                    "error": _("Complete the two-factor login first."),
                    "errors": [],
                    "status": 403,
                }
                return JsonResponse(body, status=403)
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('accounts:otp_verify')}?{query}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        otp_paths = (
            reverse("accounts:otp_verify"),
            reverse("accounts:otp_setup"),
            reverse("accounts:logout"),
            reverse("accounts:login"),
        )
        return path in otp_paths or path.startswith(_ALWAYS_ALLOWED_PREFIXES)
