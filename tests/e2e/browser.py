"""One person's browser in the end-to-end tests: Debian's chromium through Playwright, on
the provider's pages and the applications' (used by the SSO, passkey and console tests)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Account, LiveProvider, new_password
from tests.e2e.relying_party import RelyingParty


def init_operator(provider: LiveProvider) -> Account:
    """The operator ``congvu init`` made, with a fresh one-time password."""
    made = provider.cli_json("account", "reset-password", "quantri", "--json")
    return Account(made["address"], made["one_time_password"], "")


class Browser:
    """One person's browser (its own cookies) with a screenshot trail."""

    def __init__(self, page, provider: LiveProvider, folder: Path, prefix: str) -> None:
        self.page, self.provider = page, provider
        self.folder, self.prefix, self.shots = folder, prefix, 0
        self.requests: list[str] = []
        self.console: list[str] = []  # the browser's own errors (CSP violations, ...)
        page.on("request", lambda req: self.requests.append(req.url))
        page.on("console", lambda msg: self.console.append(msg.text)
                if msg.type == "error" else None)

    def shot(self, name: str) -> None:
        self.shots += 1
        self.page.screenshot(path=str(self.folder / f"{self.prefix}-{self.shots:02d}-{name}.png"),
                             full_page=True)

    @property
    def url(self) -> str:
        return str(self.page.url)

    def on_sign_in_page(self) -> bool:
        return self.url.startswith(f"{self.provider.issuer}/sso/login/") \
            and self.page.locator("#id_address").count() == 1

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="load")

    def arrive(self, prefix: str) -> None:
        """Wait until the browser is on a page under ``prefix``; fail with what it saw."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_url(lambda u: u.startswith(prefix), wait_until="load")
        except PlaywrightTimeout:
            raise AssertionError(f"expected {prefix}, still on {self.url}; browser errors: "
                                 f"{self.console}") from None

    def sign_in(self, account: Account, then: str) -> None:
        """On the provider's sign-in page: the account's password, then the forced change
        of a one-time password when the provider asks for it; ends on ``then``."""
        assert self.on_sign_in_page(), self.url
        self.page.fill("#id_address", account.address)
        self.page.fill("#id_password", account.password)
        self.page.click("#signin")
        if account.must_change:
            self.arrive(f"{self.provider.issuer}/sso/password/")
            self.shot("doi-mat-khau")
            password = new_password()
            self.page.fill("#id_new_password1", password)
            self.page.fill("#id_new_password2", password)
            self.page.click("#change")
            account.password, account.must_change = password, False
        self.arrive(then)

    def sign_in_enrolling_totp(self, account: Account, then: str) -> None:
        """Sign in as someone who must enrol an authenticator first (operators): the
        password (and its forced change), the enrolment with a code computed from the
        secret the page shows; ends on ``then``."""
        import pyotp

        from congvu.sso import totp

        self.sign_in(account, then=f"{self.provider.issuer}/sso/totp/enrol/")
        secret = self.page.inner_text("#totp-secret").strip()
        self.shot("yeu-to-thu-hai")
        self.page.fill("#id_code", pyotp.TOTP(secret, interval=totp.STEP).now())
        self.page.click("#enrol")
        self.arrive(then)

    def shown(self) -> dict[str, str]:
        """What the application page says about who is signed in."""
        return {k: self.page.inner_text(f"#{k}").strip() for k in ("email", "name", "agency")}

    def signed_out_of(self, app: RelyingParty, page_path: str = "/protected/") -> bool:
        """Opening the application's protected page sends the browser to the provider's
        sign-in page: the application's session and the SSO session are both gone."""
        self.open(f"{app.url}{page_path}")
        if self.url.startswith(app.logged_out):  # mod_auth_openidc ended it just now
            self.open(app.home)
        return self.on_sign_in_page()

    def confirm_sign_out(self) -> None:
        """If the provider asks to confirm an application's sign-out, confirm it."""
        if self.url.startswith(f"{self.provider.issuer}/sso/logout/") \
                and self.page.locator("#confirm-logout").count():
            self.page.click("#confirm-logout")
