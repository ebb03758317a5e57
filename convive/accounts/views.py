"""Log in (with a second factor for staff), sign up, one's own account and the staff workspace."""

import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from convive.accounts import actions
from convive.accounts.forms import LoginForm, OtpTokenForm, ProfileForm, SignupForm
from convive.accounts.network import client_ip
from convive.accounts.permissions import Action, is_allowed, needs_two_factor, requires
from convive.accounts.qr import qr_svg
from convive.accounts.queries import home_url_for
from convive.core.errors import ActionError
from convive.institutions.queries import scope_for


def _next_url(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if candidate and allowed else default


def _step_url(request: HttpRequest, name: str) -> str:
    """The URL of a login step, carrying the page the person was going to."""
    next_url = _next_url(request, "")
    return f"{reverse(name)}?{urlencode({'next': next_url})}" if next_url else reverse(name)


def _remember_language(response: HttpResponse, language: str) -> HttpResponse:
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    return response


@requires(Action.PUBLIC)
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated:  # already in: finish the second factor, or go to one's area
        if needs_two_factor(user) and not user.is_verified():
            return redirect(_step_url(request, "accounts:otp_verify"))
        return redirect(_next_url(request, home_url_for(user)))
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = form.get_user()
            auth_login(request, user)
            with transaction.atomic(durable=True):
                actions.do_record_login(user, ip_address=client_ip(request))
            if needs_two_factor(user):
                request.session.set_expiry(settings.STAFF_SESSION_SECONDS)
                step = "accounts:otp_verify"
                if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                    step = "accounts:otp_setup"
                response = redirect(_step_url(request, step))
            else:
                response = redirect(_next_url(request, home_url_for(user)))
            return _remember_language(response, user.preferred_language)
        with transaction.atomic(durable=True):
            actions.do_record_failed_login(
                request.POST.get("username", "")[:150],
                ip_address=client_ip(request),
                locked_out=bool(getattr(request, "axes_locked_out", False)),
            )
    context = {"form": form, "next": _next_url(request, "")}
    return render(request, "accounts/login.html", context)


@requires(Action.ACCOUNT_VIEW)
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not needs_two_factor(user) or user.is_verified():
        return redirect(_next_url(request, home_url_for(user)))
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect(_step_url(request, "accounts:otp_setup"))
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic(durable=True):
            result = actions.do_verify_token(user, token=form.cleaned_data["token"])
        if result.device is not None:
            otp_login(request, result.device)
            return redirect(_next_url(request, home_url_for(user)))
        if result.throttled:
            form.add_error("token", _("Too many wrong codes. Wait a moment before trying again."))
        else:
            form.add_error(
                "token", _("That code is not valid. Check your phone's clock and try again.")
            )
    context = {"form": form, "next": _next_url(request, "")}
    return render(request, "accounts/otp_verify.html", context)


@requires(Action.ACCOUNT_VIEW)
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        if user.is_verified():
            return redirect(_next_url(request, home_url_for(user)))
        return redirect(_step_url(request, "accounts:otp_verify"))
    with transaction.atomic(durable=True):
        device = actions.do_get_or_create_pending_device(user)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        error = None
        with transaction.atomic(durable=True):
            try:
                device = actions.check_confirm_device(
                    user, device, token=form.cleaned_data["token"]
                )
            except ActionError as exc:
                error = exc
        if error is None:
            otp_login(request, device)
            messages.success(request, _("Two-factor login is set up."))
            return redirect(_next_url(request, home_url_for(user)))
        form.add_error("token", error.message)
    context = {
        "form": form,
        "qr_svg": qr_svg(device.config_url),
        "secret": base64.b32encode(device.bin_key).decode("ascii"),
        "next": _next_url(request, ""),
    }
    return render(request, "accounts/otp_setup.html", context)


@requires(Action.PUBLIC)
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        with transaction.atomic(durable=True):
            actions.do_record_logout(request.user)
    auth_logout(request)
    messages.info(request, _("You have logged out."))
    return redirect("core:home")


@requires(Action.PUBLIC)
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(home_url_for(request.user))
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic(durable=True):
                user = actions.check_create_citizen(
                    username=data["username"], email=data["email"], password=data["password1"]
                )
        except ActionError as exc:
            form.add_error(exc.field, exc.message)
        else:
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to Convive. Your account is ready."))
            return redirect("accounts:me")
    return render(request, "accounts/signup.html", {"form": form})


@requires(Action.ACCOUNT_VIEW)
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the area of their role."""
    return redirect(home_url_for(request.user))


@requires(Action.ACCOUNT_VIEW)
@require_http_methods(["GET", "POST"])
def me(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic(durable=True):
            user = actions.do_update_profile(request.user, fields=form.cleaned_data)
        messages.success(request, _("Your details are saved."))
        return _remember_language(redirect("accounts:me"), user.preferred_language)
    context = {"form": form, "memberships": request.user.active_memberships}
    return render(request, "accounts/me.html", context)


@requires(Action.WORKSPACE_VIEW)
def workspace(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    context = {
        "memberships": request.user.active_memberships,
        "scope": scope,
        "scope_territories": scope.top_territories(),
        "can_use_inbox": is_allowed(request.user, Action.REPORT_INBOX),
    }
    return render(request, "accounts/workspace.html", context)
