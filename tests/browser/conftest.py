"""Playwright driving Debian's Chromium (never a downloaded browser) against the live server.

Every test here is marked ``browser``, runs with a real (flushed) database, gets a phone-sized
``page`` and leaves a full-page screenshot named after itself in ``artifacts/screenshots/``. A
console error (including any Content-Security-Policy violation) or a page wider than the screen
fails the test.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import skip_or_fail

# Playwright's sync API runs an event loop in this thread; Django must still allow the ORM here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    if not Path(CHROMIUM).exists():
        skip_or_fail("browser tests need Debian's Chromium: sudo apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


class Browser:
    """Opens pages on the live server and collects what the console says."""

    def __init__(self, chromium, live_server, name: str):
        self.chromium = chromium
        self.base_url = live_server.url
        self.name = name
        self.contexts = []
        self.errors: list[str] = []
        # pytest-django's live server speaks WSGI only: the console's websocket (/ws/console/) is
        # refused there, and the console falls back to polling (tests/browser/test_console.py
        # runs the site under Daphne to test the live path).
        self.expected: list[str] = ["/ws/console/' failed"]

    def expect_console_error(self, fragment: str) -> None:
        """Allow console errors containing ``fragment`` (an intended 4xx page, say)."""
        self.expected.append(fragment)

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(f in e for f in self.expected)]

    def new_page(self, *, viewport: dict | None = None, locale: str = "es-CO", like=None):
        """A new browser context; ``like=page`` copies that page's cookies (the same login)."""
        state = like.context.storage_state() if like is not None else None
        context = self.chromium.new_context(
            viewport=viewport or PHONE, locale=locale, base_url=self.base_url, storage_state=state
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page

    def screenshot(self, page, suffix: str = "") -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}{suffix}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        """Close every page opened so far; closing twice is harmless."""
        while self.contexts:
            self.contexts.pop().close()


@pytest.fixture
def browser(chromium, live_server, request) -> Iterator[Browser]:
    session = Browser(chromium, live_server, request.node.name.replace("/", "_"))
    yield session
    session.close()
    unexpected = session.unexpected_errors()
    assert unexpected == [], f"the browser console reported errors: {unexpected}"


@pytest.fixture
def page(browser):
    """A phone-sized page; its screenshot is saved when the test ends."""
    page = browser.new_page()
    yield page
    if not page.is_closed():
        browser.screenshot(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"
