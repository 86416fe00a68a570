"""Fixtures of the viewer's browser tests: the system Chromium driven by Playwright (never
a downloaded browser), a page that fails its test on any console error or page error,
and one real ``mofront serve`` per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install the Debian 'chromium' package "
                    "(.ci/run does) to run the viewer's browser tests")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class ConsoleErrors:
    """Console errors and uncaught page errors seen by one page. A test that provokes
    an error on purpose (an HTTP 422 the browser logs) names it with ``expect``, or
    with ``allow`` when it may show any number of times (every request refused 401)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.expected: list[str] = []
        self.allowed: list[str] = []

    def expect(self, fragment: str) -> None:
        self.expected.append(fragment)

    def allow(self, fragment: str) -> None:
        self.allowed.append(fragment)

    def unexpected(self) -> list[str]:
        remaining = list(self.expected)
        unexpected = []
        for message in self.seen:
            if any(fragment in message for fragment in self.allowed):
                continue
            match = next((fragment for fragment in remaining if fragment in message), None)
            if match is None:
                unexpected.append(message)
            else:
                remaining.remove(match)
        return unexpected


@pytest.fixture
def console_errors() -> ConsoleErrors:
    return ConsoleErrors()


@pytest.fixture
def page(browser, console_errors: ConsoleErrors) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)

    def on_console(message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error":
            location = message.location or {}
            console_errors.seen.append(f"console error: {message.text} ({location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: console_errors.seen.append(f"page error: {error}"))
    yield page
    context.close()
    unexpected = console_errors.unexpected()
    assert not unexpected, "the browser reported errors:\n" + "\n".join(unexpected)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("web")
    server = Server(f"sqlite:///{directory / 'mofront.db'}", directory / "server.log").start()
    yield server
    server.stop()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save the 1280x800 viewport as docs/screenshots/{name}.png (the README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
