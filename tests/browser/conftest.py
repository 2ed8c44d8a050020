"""Real headless Chromium (Debian's package) driven by Playwright against live_server."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.factories import sign_in, stop

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make to
# look things up are synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


# Every test acts as a candidate who waits for the page: until its load event (its deferred
# scripts have run) nothing on it takes a pointer, and Playwright's click, check and hover wait
# until their target does. A click made sooner fell back to the page's no-JavaScript form —
# the review page's "Finish" submitted instead of opening review.js's dialog — in runs under
# load. Keyboard actions and filling do not hit-test: the page's keyboard and a locator's focus,
# fill and select_option wait for the load event instead (a test that means to act sooner goes
# through the locator's press).
WAIT_FOR_LOAD = """
(() => {
  const hold = (root) => root.style.setProperty("pointer-events", "none", "important");
  if (document.documentElement) hold(document.documentElement);
  else new MutationObserver((changes, observer) => {
    if (document.documentElement) { hold(document.documentElement); observer.disconnect(); }
  }).observe(document, { childList: true });
  addEventListener("load", () => document.documentElement.style.removeProperty("pointer-events"));
})();
"""


def _after_load(action):
    def waiting(self, *args, **options):
        self.page.wait_for_load_state("load")
        return action(self, *args, **options)

    return waiting


@pytest.fixture(scope="session")
def chromium():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing and CI=true: browser tests must run")
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import Locator, Page, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        new_context = browser.new_context

        def waiting_context(**options):
            context = new_context(**options)
            context.add_init_script(WAIT_FOR_LOAD)
            return context

        # Every context, the fixtures' and those tests make themselves.
        browser.new_context = waiting_context
        # What does not hit-test waits for the load event itself: a field filled or a choice
        # selected sooner may be reset or missed by the page's scripts as they start.
        actions = {name: getattr(Locator, name) for name in ("focus", "fill", "select_option")}
        for name, action in actions.items():
            setattr(Locator, name, _after_load(action))
        keyboard = Page.keyboard

        def waiting_keyboard(self):
            self.wait_for_load_state("load")
            return keyboard.fget(self)

        Page.keyboard = property(waiting_keyboard)
        yield browser
        Page.keyboard = keyboard
        for name, action in actions.items():
            setattr(Locator, name, action)
        browser.close()


@pytest.fixture
def new_context(chromium):
    """A browser context factory (`options` go to Playwright's new_context); every context it
    made is closed after the test."""
    made = []

    def make(**options):
        context = chromium.new_context(**options)
        context.set_default_timeout(15_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def context_in(new_context):
    """A browser context factory: `context_in("Europe/Berlin", javascript=False)`."""

    def make(zone: str = "UTC", *, javascript: bool = True, locale: str = "en-GB", **options):
        return new_context(
            timezone_id=zone, java_script_enabled=javascript, locale=locale, **options
        )

    return make


@pytest.fixture
def browser_context(new_context):
    return new_context(locale="fa-IR")


@pytest.fixture
def no_js_page(new_context):
    return new_context(java_script_enabled=False, locale="en-US").new_page()


@pytest.fixture
def page(browser_context):
    return browser_context.new_page()


@pytest.fixture
def portal(live_server, settings):
    """The live portal, with absolute URLs (exam_url, callbacks) pointing at it."""
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server


@pytest.fixture
def staff_page(browser_context, portal):
    """Sign a staff user in through the console's own form; returns the signed-in page.

    Use: `page = staff_page(operator)` or `staff_page(operator, language="fa")`.
    """
    return lambda user, language="en": sign_in(browser_context.new_page(), portal, user, language)


def database_env() -> dict[str, str]:
    """Point another process at this test's database (a file on SQLite, the test DB on PG)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        credentials = quote(db["USER"] or "") + ":" + quote(db["PASSWORD"] or "")
        address = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
        return {"DATABASE_URL": f"postgres://{credentials}@{address}/{db['NAME']}"}
    assert not connection.is_in_memory_db(), "the SQLite test database must be a file"
    return {"SQLITE_PATH": str(db["NAME"])}


@pytest.fixture
def huey_consumer(private_queue, tmp_path):
    """`manage.py run_huey` on this test's database and queue, stopped after the test."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH"}}
    env |= database_env() | {
        "HUEY_NAME": private_queue,
        "OUTBOUND_ALLOW_LOOPBACK": "true",
        "LOG_LEVEL": "WARNING",
    }
    log_path = tmp_path / "consumer.log"
    with open(log_path, "w") as log:
        consumer = subprocess.Popen(
            [sys.executable, "manage.py", "run_huey", "--workers", "2", "--delay", "0.1"]
            + ["--max-delay", "0.5", "--no-periodic"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    yield lambda: log_path.read_text()
    stop(consumer, timeout=15)
