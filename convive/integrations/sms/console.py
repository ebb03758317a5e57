import logging
import sys

logger = logging.getLogger("convive.sms")


class ConsoleSmsBackend:
    """Development: print each message on the console instead of sending it."""

    def send(self, to: str, body: str) -> None:
        sys.stdout.write(f"[SMS to {to}] {body}\n")
        sys.stdout.flush()


class NullSmsBackend:
    """Tests and benchmarks: keep the messages in memory (``sent``), send nothing."""

    sent: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> None:
        self.sent.append((to, body))
