"""`make screenshots`: fresh PNGs of the main pages at 1280 and 390 px in docs/screens/.

It builds a throw-away embedded database under var/screenshots/ (SQLite; or
SCREENSHOTS_DATABASE_URL, a database it may fill and change), loads the securities and
the demo data (the demo customer with two years of history), adds a staff login with an
authenticator app (the admin needs a second factor), starts `manage.py runserver` on a
free port, and drives Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium) with
Playwright through the customer's and the staff's pages. Never your own database: the
DATABASE_URL of your shell is not used.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screens"
WORK = ROOT / "var" / "screenshots"
WIDTHS = {1280: 900, 390: 844}
PASSWORD = "screens-demo-password"
STAFF = "screens@rushtrade.test"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DEBUG="1",
        RUSHTRADE_VAR_DIR=str(WORK),
        DEMO_PASSWORD=PASSWORD,
        DATABASE_URL=os.environ.get(
            "SCREENSHOTS_DATABASE_URL", f"sqlite:///{WORK / 'rushtrade.sqlite3'}"
        ),
        ACH_SIMULATOR="0",
        DJANGO_SETTINGS_MODULE="rushtrade.settings",
    )
    return env


def manage(env, *args) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(env) -> None:
    """A fresh database with the securities, the demo data and a staff login with TOTP."""
    if "SCREENSHOTS_DATABASE_URL" not in os.environ:
        shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "load_securities")
    manage(env, "seed_demo")
    manage(
        env,
        "shell",
        "-c",
        "from allauth.account.models import EmailAddress\n"
        "from allauth.mfa.models import Authenticator\n"
        "from allauth.mfa.totp.internal.auth import TOTP\n"
        "from accounts.users.models import User\n"
        f"u, _ = User.objects.get_or_create(email={STAFF!r}, defaults=dict(is_staff=True,"
        " is_superuser=True, first_name='Sam', last_name='Screens'))\n"
        f"u.set_password({PASSWORD!r}); u.save()\n"
        f"EmailAddress.objects.get_or_create(user=u, email={STAFF!r},"
        " defaults=dict(verified=True, primary=True))\n"
        "if not Authenticator.objects.filter(user=u, type='totp').exists():\n"
        f"    TOTP.activate(u, {TOTP_SECRET!r})\n",
    )


def totp_code() -> str:
    import hashlib
    import hmac
    import struct
    from base64 import b32decode

    counter = struct.pack(">Q", int(time.time()) // 30)
    digest = hmac.new(b32decode(TOTP_SECRET), counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own server)
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"the dev server did not answer at {url}") from None
            time.sleep(0.25)


def log_in(page, base: str, email: str, code: bool = False) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    if code:
        page.wait_for_url("**/accounts/2fa/authenticate/")
        page.get_by_label("Code").fill(totp_code())
        page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(base + "/")


def customer_pages(env) -> list[tuple[str, str]]:
    """(name, path) of the demo customer's pages, with their account and a held symbol."""
    script = (
        "from accounts.opening.models import Account\n"
        "from trading.orders.models import Position\n"
        "a = Account.objects.filter(holders__email='demo@rushtrade.test').first()\n"
        "p = Position.objects.filter(account=a, qty__gt=0).order_by('-qty').first()\n"
        "print(a.account_number, p.security.symbol if p else 'AAPL')\n"
    )
    found = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    number, symbol = found[-2], found[-1]
    account = f"/account/{number}"
    return [
        ("home", "/"),
        ("overview", f"{account}/"),
        ("symbol", f"/symbols/{symbol}/"),
        ("symbol-1y", f"/symbols/{symbol}/?range=1Y"),
        ("search", "/search/?q=APPL"),
        ("ticket", f"{account}/trade/?symbol={symbol}&side=buy"),
        ("orders", f"{account}/orders/"),
        ("transfers", f"{account}/transfers/"),
        ("activity", f"{account}/activity/"),
        ("gains", f"{account}/gains/"),
        ("documents", f"{account}/documents/"),
        ("watchlist", "/watchlist/"),
        ("portfolio", "/portfolio/"),
        ("profile", "/profile/"),
    ]


STAFF_PAGES = [
    ("admin-home", "/admin/"),
    ("admin-applications", "/admin/accounts/accountapplication/"),
    ("statistics", "/staff/statistics/"),
]


def shoot(base: str, env) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    written = []
    pages = customer_pages(env)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        # Log in once per login and reuse the session at every width: an authenticator
        # code is good once, so a second sign-in within its 30 s would be refused.
        sessions = {}
        for email, code in (("demo@rushtrade.test", False), (STAFF, True)):
            context = browser.new_context()
            page = context.new_page()
            page.set_default_timeout(30_000)
            log_in(page, base, email, code)
            sessions[email] = context.storage_state()
            context.close()
        for width, height in WIDTHS.items():
            for email, todo in (("demo@rushtrade.test", pages), (STAFF, STAFF_PAGES)):
                context = browser.new_context(
                    viewport={"width": width, "height": height}, storage_state=sessions[email]
                )
                page = context.new_page()
                page.set_default_timeout(30_000)
                for name, path in todo:
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    if wide > width:
                        print(f"warning: {path} is {wide} px wide at {width} px", file=sys.stderr)
                    target = OUT / f"{name}-{width}.png"
                    page.screenshot(path=str(target), full_page=True, animations="disabled")
                    written.append(target)
                context.close()
        browser.close()
    return written


def main() -> None:
    env = environment()
    prepare(env)
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env={**env, "SITE_URL": f"http://127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/accounts/login/")
        written = shoot(base, env)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"{len(written)} screenshots in {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
