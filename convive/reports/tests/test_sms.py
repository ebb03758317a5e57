"""SMS backends. Twilio's is tested against a real HTTP server on 127.0.0.1 that records what it
receives and answers as Twilio does (payloads from Twilio's API reference)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.core.exceptions import ImproperlyConfigured

from convive.integrations.sms import SmsError, get_sms_backend, to_e164
from convive.integrations.sms.console import ConsoleSmsBackend, NullSmsBackend
from convive.integrations.sms.twilio import TwilioConfig, TwilioSmsBackend

SID = "AC00000000000000000000000000000001"
TOKEN = "test-auth-token-0001"
TWILIO_QUEUED = {
    "sid": "SM00000000000000000000000000000001",
    "status": "queued",
    "to": "+573001234567",
    "from": "+15005550006",
    "body": "Convive #1",
    "num_segments": "1",
}
TWILIO_INVALID_TO = {
    "code": 21211,
    "message": "The 'To' number +5730 is not a valid phone number.",
    "more_info": "https://www.twilio.com/docs/errors/21211",
    "status": 400,
}


class Recorder(BaseHTTPRequestHandler):
    """Records each request; answers with the server's ``answer`` (status, JSON, delay)."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length).decode("utf-8")
        self.server.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
                "form": {key: values[0] for key, values in parse_qs(raw).items()},
            }
        )
        status, payload, delay = self.server.answer
        time.sleep(delay)
        data = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout test)
            pass

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def twilio_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.requests = []
    server.answer = (201, TWILIO_QUEUED, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def twilio(settings, twilio_server) -> TwilioSmsBackend:
    host, port = twilio_server.server_address
    settings.SMS_TWILIO_ACCOUNT_SID = SID
    settings.SMS_TWILIO_AUTH_TOKEN = TOKEN
    settings.SMS_TWILIO_FROM = "+15005550006"
    settings.SMS_TWILIO_API_BASE = f"http://{host}:{port}/"
    settings.SMS_DEFAULT_CALLING_CODE = "57"
    settings.SMS_TIMEOUT_SECONDS = 2
    return TwilioSmsBackend()


def test_twilio_posts_the_message_as_its_api_asks(twilio, twilio_server):
    twilio.send("300 123 4567", "Convive #1: Respuesta de la institución. http://x/report/ABC/")

    [request] = twilio_server.requests
    assert request["method"] == "POST"
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request["authorization"] == f"Basic {expected}"
    assert request["content_type"].startswith("application/x-www-form-urlencoded")
    assert request["form"] == {
        "To": "+573001234567",
        "From": "+15005550006",
        "Body": "Convive #1: Respuesta de la institución. http://x/report/ABC/",
    }


def test_twilio_refusals_raise_with_twilios_code_and_message(twilio, twilio_server):
    twilio_server.answer = (400, TWILIO_INVALID_TO, 0)
    with pytest.raises(SmsError) as raised:
        twilio.send("+5730", "Hola")
    assert (raised.value.status, raised.value.code) == (400, "21211")
    assert "not a valid phone number" in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_twilio_server_errors_without_json_raise_too(twilio, twilio_server):
    twilio_server.answer = (503, "", 0)
    with pytest.raises(SmsError) as raised:
        twilio.send("+573001234567", "Hola")
    assert raised.value.status == 503


def test_a_redirect_is_an_error_not_a_success(twilio, twilio_server):
    twilio_server.answer = (302, {}, 0)
    with pytest.raises(SmsError) as raised:
        twilio.send("+573001234567", "Hola")
    assert raised.value.status == 302
    assert len(twilio_server.requests) == 1


def test_twilio_unreachable_or_slow_raises(twilio, twilio_server, settings):
    twilio_server.answer = (201, TWILIO_QUEUED, 1.0)
    settings.SMS_TIMEOUT_SECONDS = 0.2
    with pytest.raises(SmsError, match="could not be reached"):
        twilio.send("+573001234567", "Hola")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.SMS_TWILIO_API_BASE = f"http://127.0.0.1:{closed_port}"
    with pytest.raises(SmsError, match="could not be reached"):
        twilio.send("+573001234567", "Hola")


def test_twilio_needs_its_settings_and_tls(settings):
    settings.SMS_TWILIO_ACCOUNT_SID = ""
    with pytest.raises(ImproperlyConfigured, match="SMS_TWILIO_ACCOUNT_SID"):
        TwilioSmsBackend().send("+573001234567", "Hola")
    plain = TwilioConfig(SID, TOKEN, "+15005550006", "http://api.example.org", 5)
    with pytest.raises(ImproperlyConfigured, match="https"):
        TwilioSmsBackend(plain).send("+573001234567", "Hola")


def test_long_bodies_are_cut_to_twilios_limit(twilio, twilio_server):
    twilio.send("+573001234567", "x" * 2000)
    assert len(twilio_server.requests[0]["form"]["Body"]) == 1600


@pytest.mark.parametrize(
    ("typed", "code", "e164"),
    [
        ("300 123 4567", "57", "+573001234567"),
        ("(55) 1234-5678", "+52", "+525512345678"),
        ("+57 300-123-4567", "52", "+573001234567"),
        ("0057 3001234567", "52", "+573001234567"),
        ("3001234567", "", "3001234567"),
    ],
)
def test_numbers_become_e164(typed, code, e164):
    assert to_e164(typed, code) == e164


def test_the_setting_chooses_the_backend(settings, capsys):
    settings.SMS_BACKEND = "convive.integrations.sms.console.ConsoleSmsBackend"
    backend = get_sms_backend()
    assert isinstance(backend, ConsoleSmsBackend)
    backend.send("+573001234567", "Hola")
    assert capsys.readouterr().out == "[SMS to +573001234567] Hola\n"
    settings.SMS_BACKEND = "convive.integrations.sms.console.NullSmsBackend"
    get_sms_backend().send("+573001234567", "Hola")
    assert NullSmsBackend.sent == [("+573001234567", "Hola")]


def test_an_inbox_reply_reaches_twilio_and_a_vendor_failure_loses_nothing(
    client,
    catalogue,
    citizen,
    supervisor,
    settings,
    twilio,
    twilio_server,
    django_capture_on_commit_callbacks,
):
    from django.core import mail
    from django.urls import reverse

    from conftest import login
    from convive.reports.tests.test_inbox import make_report

    settings.SMS_BACKEND = "convive.integrations.sms.twilio.TwilioSmsBackend"
    report = make_report("robo", reporter=citizen, contact_phone="300 111 0000")
    login(client, supervisor)
    url = reverse("inbox:reply", args=[report.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"reply-body": "Ya vamos."}).status_code == 302
    [request] = twilio_server.requests
    assert request["form"]["To"] == "+573001110000"
    assert f"#{report.pk}" in request["form"]["Body"]

    twilio_server.answer = (500, {"code": 20500, "message": "Internal Server Error"}, 0)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"reply-body": "Otra vez."}).status_code == 302
    assert len(twilio_server.requests) == 2  # tried, refused, logged: the reply stands
    assert report.events.filter(body="Otra vez.").exists()
    assert [m.to for m in mail.outbox] == [[citizen.email]]  # e-mail is not held back by SMS
