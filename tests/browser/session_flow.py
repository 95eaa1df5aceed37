#!/usr/bin/env python3
"""Real-browser end-to-end test of the example web app on a live sidecar (issue 10).

Headless Chromium, driven by Selenium through Debian's chromedriver, logs in, sees the protected page, stays
past the access token's validity and must be refreshed through renewTokenPath without noticing (first by the
open page's script, then by a navigation through the refresh page), then logs out. scripts/browser-test.sh
starts everything this needs; by hand:

    python tests/browser/session_flow.py --base-url http://localhost:PORT --socket SIDECAR_SOCKET \
        --sidecar-log SIDECAR_LOG --screenshots DIR

The sidecar must issue short-lived access tokens (tokens.accessToken.validity 10 s, the minimum): the test
waits for the tokens the page shows to expire, so a long validity makes it wait that long. Exit status 0 when
every check held, 1 otherwise (with failure.png, the page's URL and the browser's console in the output).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import sys
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from sessionsidecar import Client, RefreshOutcome

ACCESS_COOKIE = "sAccessToken"
REFRESH_COOKIE = "sRefreshToken"
SESSION_COOKIES = (ACCESS_COOKIE, REFRESH_COOKIE)
#: How long past a token's expiry the test stays before it expects the refresh to have happened.
PAST_EXPIRY_S = 3.0
#: The longest any single wait may take (a page load, a refresh after expiry, a log line): a ceiling, not a
#: timing assertion; a healthy run needs a fraction of it.
WAIT_CEILING_S = 20.0
#: Set on the protected page's window: still there later means the page was never reloaded.
MARKER = "__browserTestMarker"


class CheckFailed(AssertionError):
    pass


def check(condition: Any, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def jwt_claims(token: str) -> Dict[str, Any]:
    """The payload of a JWT, unverified (the sidecar verified it; this only reads who and until when)."""
    parts = token.split(".")
    check(len(parts) == 3, f"{ACCESS_COOKIE} is not a JWT ({len(parts)} parts)")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


class BrowserSession:
    """One headless Chromium, with the helpers the steps share."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.base_url = args.base_url.rstrip("/")
        self.renew_path = args.renew_token_path
        self.screenshots = Path(args.screenshots)
        options = webdriver.ChromeOptions()
        options.binary_location = args.chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1000,700", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"):
            options.add_argument(flag)
        # The console, and every request the browser sends (CDP Network events, seen from outside the page).
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": False})
        # A named driver: Selenium Manager (which would download one) is never run.
        self.driver = webdriver.Chrome(service=Service(executable_path=args.chromedriver), options=options)
        self.driver.set_page_load_timeout(WAIT_CEILING_S)

    def close(self) -> None:
        try:
            self.driver.quit()
        except WebDriverException:
            pass

    # -- navigation and page --------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path

    def path(self) -> str:
        return urllib.parse.urlsplit(self.driver.current_url).path

    def wait_for(self, what: str, condition: Callable[[], Any], timeout: float = WAIT_CEILING_S) -> Any:
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.25).until(lambda _driver: condition())
        except TimeoutException:
            raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what} "
                              f"(at {self.driver.current_url})") from None

    def element(self, css: str) -> Any:
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found else None

    def text(self, css: str) -> Optional[str]:
        element = self.element(css)
        return element.text if element is not None else None

    def on_login_page(self) -> bool:
        return self.path() == "/" and self.element("#username") is not None and self.element("#login") is not None

    def on_protected_page(self, user: str) -> bool:
        return self.path() == "/protected" and self.text("#user-id") == user

    def expires_at_ms(self) -> int:
        """The access token's expiry as the protected page shows it (its datetime attribute)."""
        return int(self.element("#expires").get_attribute("datetime"))

    def requests(self) -> List[str]:
        """Every request the browser sent since the last call, in order, as "TYPE METHOD PATH?QUERY STATUS"
        (TYPE: Document for a navigation, Fetch for a script's fetch()); a redirect is a request of its own."""
        hops, by_id = [], {}
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message.get("method") == "Network.requestWillBeSent":
                if "redirectResponse" in params and params["requestId"] in by_id:
                    by_id[params["requestId"]]["status"] = params["redirectResponse"].get("status")
                parts = urllib.parse.urlsplit(params["request"]["url"])
                if parts.scheme not in ("http", "https"):
                    continue
                hop = {"type": params.get("type", "?"), "method": params["request"]["method"],
                       "target": parts.path + ("?" + parts.query if parts.query else ""), "status": None}
                hops.append(hop)
                by_id[params["requestId"]] = hop
            elif message.get("method") == "Network.responseReceived" and params.get("requestId") in by_id:
                by_id[params["requestId"]]["status"] = params["response"].get("status")
        return [f"{hop['type']} {hop['method']} {hop['target']} {hop['status']}" for hop in hops]

    def screenshot(self, name: str) -> Path:
        path = self.screenshots / name
        check(self.driver.save_screenshot(str(path)), f"could not save {path}")
        print(f"  screenshot {path}")
        return path

    # -- cookies ------------------------------------------------------------------------------------------------

    def session_cookies(self) -> Dict[str, Dict[str, Any]]:
        """Both session cookies as the browser stores them, whatever their Path (WebDriver's own cookie calls
        only see the cookies of the current page's path, which never includes sRefreshToken's)."""
        try:
            cookies = self.driver.execute_cdp_cmd("Storage.getCookies", {})["cookies"]
        except WebDriverException:
            cookies = self.driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
        return {cookie["name"]: cookie for cookie in cookies if cookie["name"] in SESSION_COOKIES}

    def token(self, name: str) -> Optional[str]:
        cookie = self.session_cookies().get(name)
        return cookie["value"] if cookie else None

    def console(self) -> List[str]:
        try:
            return [f"{entry.get('level')}: {entry.get('message')}" for entry in self.driver.get_log("browser")]
        except WebDriverException:
            return []


class SidecarLog:
    def __init__(self, path: Optional[str]) -> None:
        self.path = Path(path) if path else None

    def count(self, handle: str, event: str) -> int:
        """How many lines the sidecar wrote about this session handle with this event ("session refreshed")."""
        if self.path is None or not self.path.exists():
            return 0
        marker = f"sessionHandle={handle}"
        with self.path.open(errors="replace") as log:
            return sum(1 for line in log if marker in line and event in line)

    def refreshes(self, handle: str) -> int:
        return self.count(handle, "session refreshed")


def run(args: argparse.Namespace) -> None:
    user = f"browser-{uuid.uuid4().hex[:12]}"
    sidecar = Client(args.socket, timeout=10.0)
    log = SidecarLog(args.sidecar_log)
    browser = BrowserSession(args)
    try:
        steps(browser, sidecar, log, user, args)
    except Exception:
        try:
            browser.screenshot("failure.png")
        except Exception as error:  # noqa: BLE001 (the original failure matters more)
            print(f"  (no failure screenshot: {error})")
        print(f"  page: {browser.driver.current_url!r}, title {browser.driver.title!r}")
        print(f"  session cookies: {sorted(browser.session_cookies())}")
        for line in browser.console()[-20:]:
            print(f"  console {line}")
        raise
    finally:
        browser.close()
        sidecar.close()


def steps(browser: BrowserSession, sidecar: Client, log: SidecarLog, user: str, args: argparse.Namespace) -> None:
    driver = browser.driver

    print(f"step 1: the login form at {browser.url('/')}, user {user}")
    driver.get(browser.url("/"))
    browser.wait_for("the login form", browser.on_login_page)
    check(driver.title == "Log in", f"the login page's title is {driver.title!r}")
    check(browser.session_cookies() == {}, f"session cookies before logging in: {sorted(browser.session_cookies())}")
    browser.element("#username").send_keys(user)
    browser.screenshot("01-login.png")
    browser.element("#login").click()

    print("step 2: logged in, the protected page shows the user id")
    browser.wait_for("the protected page with the user id", lambda: browser.on_protected_page(user))
    cookies = browser.session_cookies()
    check(set(cookies) == set(SESSION_COOKIES), f"after login the browser holds {sorted(cookies)}")
    access, refresh = cookies[ACCESS_COOKIE], cookies[REFRESH_COOKIE]
    check(access["path"] == "/" and access["httpOnly"], f"{ACCESS_COOKIE}: path {access['path']}, "
                                                         f"httpOnly {access['httpOnly']}")
    check(refresh["path"] == browser.renew_path and refresh["httpOnly"],
          f"{REFRESH_COOKIE}: path {refresh['path']} (want {browser.renew_path}), httpOnly {refresh['httpOnly']}")
    for cookie in (access, refresh):
        check(cookie["domain"].lstrip(".") == urllib.parse.urlsplit(browser.base_url).hostname,
              f"{cookie['name']} is for domain {cookie['domain']!r}, not this site's")
    handle = browser.text("#session-handle")
    claims = jwt_claims(access["value"])
    check(claims.get("sub") == user and claims.get("sessionHandle") == handle,
          f"the access token names {claims.get('sub')!r} / {claims.get('sessionHandle')!r}, "
          f"the page {user!r} / {handle!r}")
    check(refresh["value"].startswith(handle + "."), "the refresh token is not one of this session's")
    handles = list(sidecar.list_sessions(user).session_handles)
    check(handles == [handle], f"the sidecar's sessions for {user}: {handles} (the page shows {handle})")
    expires_ms = browser.expires_at_ms()
    check(abs(expires_ms - claims["exp"] * 1000) < 1000,
          f"the page says the token expires at {expires_ms} ms, the token at {claims['exp']} s")
    lifetime_s = expires_ms / 1000 - time.time()
    check(lifetime_s < args.max_validity, f"the access token lives {lifetime_s:.0f} s: start the sidecar with a short "
                                          f"tokens.accessToken.validity (10 s) or this test waits that long")
    driver.execute_script(f"window.{MARKER} = 'set after login';")
    browser.screenshot("02-protected.png")
    print(f"  session {handle}; access token expires in {lifetime_s:.1f} s")

    print("step 3: stay on the page past the access token's expiry: its script refreshes without a reload")
    browser.requests()  # forget the login's
    time.sleep(max(0.0, expires_ms / 1000 - time.time() + PAST_EXPIRY_S))
    browser.wait_for(f"{ACCESS_COOKIE} to be replaced",
                     lambda: browser.token(ACCESS_COOKIE) not in (None, access["value"]))
    browser.wait_for("the page to show the new expiry", lambda: browser.expires_at_ms() > expires_ms)
    check(browser.on_protected_page(user), f"after the refresh the page is {driver.current_url} "
                                           f"showing {browser.text('#user-id')!r}")
    check(driver.execute_script(f"return window.{MARKER};") == "set after login",
          "the protected page was reloaded (the user would have noticed)")
    sent = browser.requests()
    silent_refresh = [
        "Fetch GET /api/session 401", f"Fetch POST {browser.renew_path} 200", "Fetch GET /api/session 200",
    ]
    check(sent[:3] == silent_refresh,
          f"the page did not ask, refresh with POST {browser.renew_path} and ask again: the browser sent {sent}")
    check([request for request in sent if request.startswith("Document ")] == [],
          f"the browser navigated while the page was open: {sent}")
    browser.wait_for("the sidecar's 'session refreshed' log line", lambda: log.refreshes(handle) >= 1, 5.0)
    refreshed = browser.session_cookies()
    new_claims = jwt_claims(refreshed[ACCESS_COOKIE]["value"])
    check(new_claims.get("sub") == user and new_claims.get("sessionHandle") == handle,
          f"the refreshed access token names {new_claims.get('sub')!r} / {new_claims.get('sessionHandle')!r}")
    check(new_claims["exp"] > claims["exp"], "the refreshed access token does not expire later")
    check(refreshed[REFRESH_COOKIE]["value"] != refresh["value"], f"{REFRESH_COOKIE} was not rotated")
    print(f"  {ACCESS_COOKIE} and {REFRESH_COOKIE} replaced without a reload; the browser sent {sent}; "
          f"sidecar log: {log.refreshes(handle)} refresh of {handle}")
    browser.screenshot("03-refreshed.png")

    print("step 4: leave, come back after expiry: the navigation goes through the refresh page and back")
    access, refresh, claims = refreshed[ACCESS_COOKIE], refreshed[REFRESH_COOKIE], new_claims
    expires_ms = browser.expires_at_ms()
    driver.get(browser.url("/"))  # no script of the protected page runs any more
    browser.wait_for("the login page", browser.on_login_page)
    time.sleep(max(0.0, expires_ms / 1000 - time.time() + PAST_EXPIRY_S))
    refreshes_before = log.refreshes(handle)
    browser.requests()  # forget what came before
    driver.get(browser.url("/protected"))
    browser.wait_for("the protected page after the refresh page", lambda: browser.on_protected_page(user))
    sent = browser.requests()
    through_refresh_page = [
        "Document GET /protected 303",
        f"Document GET {browser.renew_path}?redirect=%2Fprotected 200",
        f"Fetch POST {browser.renew_path} 200",
        "Document GET /protected 200",
    ]
    check([request for request in sent if " /favicon.ico " not in request][:4] == through_refresh_page,
          f"the navigation did not go through the refresh page and back: the browser sent {sent}")
    again = browser.session_cookies()
    check(set(again) == set(SESSION_COOKIES), f"after the navigation the browser holds {sorted(again)}")
    check(again[ACCESS_COOKIE]["value"] != access["value"], f"{ACCESS_COOKIE} was not replaced on navigation")
    check(again[REFRESH_COOKIE]["value"] != refresh["value"], f"{REFRESH_COOKIE} was not rotated on navigation")
    check(jwt_claims(again[ACCESS_COOKIE]["value"])["exp"] > claims["exp"], "the new token does not expire later")
    browser.wait_for("a second 'session refreshed' log line", lambda: log.refreshes(handle) > refreshes_before, 5.0)
    print(f"  replaced again; the browser sent {sent}; sidecar log: {log.refreshes(handle)} refreshes of {handle}")
    browser.screenshot("03b-refreshed-on-navigation.png")

    print("step 5: log out: cookies gone, the session revoked, the protected page refuses")
    last_refresh_token = again[REFRESH_COOKIE]["value"]
    browser.requests()
    browser.element("#logout-button").click()
    browser.wait_for("the login form after logging out", browser.on_login_page)
    sent = [request for request in browser.requests() if " /favicon.ico " not in request]
    check(sent[:2] == ["Fetch POST /logout 200", "Document GET / 200"],
          f"logging out did not POST /logout and go to the login form: the browser sent {sent}")
    browser.wait_for("both session cookies to be gone", lambda: browser.session_cookies() == {}, 5.0)
    driver.get(browser.url("/protected"))
    browser.wait_for("the protected page to send the browser to the login form", browser.on_login_page)
    check(browser.element("#user-id") is None, "the login page shows a user id")
    check(browser.session_cookies() == {}, f"cookies after logging out: {sorted(browser.session_cookies())}")
    remaining = sidecar.list_sessions(user).session_handles
    check(len(remaining) == 0, f"the sidecar still has sessions for {user}: {remaining}")
    outcome = sidecar.refresh_session(last_refresh_token)
    check(outcome.outcome is RefreshOutcome.UNAUTHORISED,
          f"the last refresh token after logout gives {outcome.outcome.name} ({outcome.reason}), not UNAUTHORISED")
    browser.wait_for("the sidecar's 'session revoked' log line", lambda: log.count(handle, "session revoked") == 1, 5.0)
    print(f"  the browser sent {sent}; no session left for {user}; its last refresh token is refused")
    browser.screenshot("04-logged-out.png")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the web app, e.g. http://localhost:8080 (use localhost)")
    parser.add_argument("--socket", default=os.environ.get("SESSION_SIDECAR_SOCKET"),
                        help="the sidecar's socket (default $SESSION_SIDECAR_SOCKET)")
    parser.add_argument("--sidecar-log", default=None, help="the sidecar's log, to find its 'session refreshed' lines")
    parser.add_argument("--screenshots", default="screenshots", help="where to save the PNGs")
    parser.add_argument("--renew-token-path", default=os.environ.get("RENEW_TOKEN_PATH", "/auth/session/refresh"))
    parser.add_argument("--max-validity", type=float, default=60.0,
                        help="refuse to wait for an access token that lives longer (seconds, default 60)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args(argv)
    if not args.socket:
        parser.error("the sidecar's socket is needed: --socket or $SESSION_SIDECAR_SOCKET")
    Path(args.screenshots).mkdir(parents=True, exist_ok=True)
    # TERM (scripts/browser-test.sh's cleanup, timeout) unwinds like ^C, so that the browser is closed.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    started = time.monotonic()
    try:
        run(args)
    except CheckFailed as failure:
        print(f"FAILED: {failure}")
        return 1
    print(f"passed: login, silent refresh on the page, refresh on navigation, logout "
          f"({time.monotonic() - started:.0f} s in the browser)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
