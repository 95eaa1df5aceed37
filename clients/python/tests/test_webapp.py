"""examples/webapp.py end to end over HTTP: the script runs as its own process against the live sidecar, and a
small cookie jar here plays the browser (Path and Domain matching, deletion), so that the refresh cookie only
reaches the renewTokenPath.

The default access-token validity (3600 s) is too long to wait for, so the refresh endpoint is called
directly; the TRY_REFRESH_TOKEN answers are checked by calling the WSGI app with a sidecar stand-in whose
verify_session says so.
"""

from __future__ import annotations

import http.client
import importlib.util
import io
import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.parse
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from sessionsidecar import Client, Cookie, VerifyOutcome, VerifySessionResult
from support import new_user, outcome_name

WEBAPP = Path(__file__).resolve().parent.parent / "examples" / "webapp.py"
RENEW = "/auth/session/refresh"


def load_webapp() -> Any:
    spec = importlib.util.spec_from_file_location("webapp_example", WEBAPP)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def webapp_url(socket_path: str) -> Iterator[str]:
    """The example app, started the way its docstring says, on a free port."""
    process = subprocess.Popen(
        [sys.executable, str(WEBAPP), "--port", "0", "--socket", socket_path, "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "RENEW_TOKEN_PATH": RENEW},
    )
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        first = lines.get(timeout=30)
    except queue.Empty:
        process.kill()
        pytest.fail(f"the web app did not start: {process.stderr.read() if process.poll() is not None else ''}")
    assert first.startswith("serving on http://localhost:"), first
    port = int(first.split("http://localhost:")[1].split("/")[0])
    yield f"http://localhost:{port}"
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


class Browser:
    """Cookies by (name, path) as a browser keeps them for host localhost; no redirects are followed."""

    def __init__(self, base_url: str) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.host = parts.hostname or "localhost"
        self.port = parts.port
        self.jar: Dict[Tuple[str, str], str] = {}
        self.sent_cookies: List[str] = []  # the Cookie header of each request, in order

    def cookie(self, name: str, path: str = "/") -> Optional[str]:
        return self.jar.get((name, path))

    def _cookie_header(self, request_path: str) -> str:
        def matches(cookie_path: str) -> bool:
            return request_path == cookie_path or request_path.startswith(cookie_path.rstrip("/") + "/")

        chosen = sorted(((path, name, value) for (name, path), value in self.jar.items() if matches(path)),
                        key=lambda item: -len(item[0]))
        return "; ".join(f"{name}={value}" for _path, name, value in chosen)

    def _store(self, header: str) -> None:
        name_value, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = name_value.partition("=")
        attrs: Dict[str, str] = {}
        for attribute in attributes:
            key, _, attr_value = attribute.partition("=")
            attrs[key.lower()] = attr_value
        domain = attrs.get("domain", "").lstrip(".").lower()
        if domain and not (self.host == domain or self.host.endswith("." + domain)):
            return  # a browser refuses a cookie for another domain
        path = attrs.get("path") or "/"
        expired = "max-age" in attrs and int(attrs["max-age"]) <= 0
        if "expires" in attrs and parsedate_to_datetime(attrs["expires"]).timestamp() <= time.time():
            expired = True
        if expired:
            self.jar.pop((name, path), None)
        else:
            self.jar[(name, path)] = value

    def request(self, method: str, path: str, form: Optional[Dict[str, str]] = None, xhr: bool = False,
                ) -> Tuple[int, http.client.HTTPMessage, bytes]:
        headers = {"Accept": "application/json" if xhr else "text/html,application/xhtml+xml,*/*;q=0.8"}
        if xhr:
            headers["X-Requested-With"] = "XMLHttpRequest"
        cookie = self._cookie_header(urllib.parse.urlsplit(path).path)
        self.sent_cookies.append(cookie)
        if cookie:
            headers["Cookie"] = cookie
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self._store(header)
        return response.status, response.headers, data


def test_login_protected_refresh_logout_then_refused(webapp_url: str, client: Client) -> None:
    browser = Browser(webapp_url)
    status, _headers, body = browser.request("GET", "/")
    assert status == 200
    assert b'action="/login"' in body and b'name="username"' in body

    user_id = new_user()
    status, headers, _body = browser.request("POST", "/login", {"username": user_id})
    assert status == 303 and headers["Location"] == "/protected"
    set_cookies = headers.get_all("Set-Cookie")
    assert [value.split("=")[0] for value in set_cookies] == ["sAccessToken", "sRefreshToken"]
    assert all("HttpOnly" in value and "SameSite=Lax" in value for value in set_cookies)
    access = browser.cookie("sAccessToken")
    refresh = browser.cookie("sRefreshToken", RENEW)
    assert access and refresh
    verified = client.verify_session(access)  # the forwarded cookie holds the sidecar's own token
    assert verified.outcome is VerifyOutcome.OK and verified.session.user_id == user_id
    handle = verified.session.handle

    status, _headers, body = browser.request("GET", "/protected")
    assert status == 200
    assert f'<strong id="user-id">{user_id}</strong>'.encode() in body
    assert b"sRefreshToken" not in browser.sent_cookies[-1].encode()  # its Path keeps it to the renew path

    status, _headers, body = browser.request("GET", "/api/session", xhr=True)
    assert status == 200
    assert json.loads(body) == {"userId": user_id, "sessionHandle": handle,
                                "accessTokenExpiresAtMs": verified.session.expires_at_ms}

    # Refresh, as the page's script does (an XHR POST to the renew path).
    status, headers, body = browser.request("POST", RENEW, xhr=True)
    assert status == 200, body
    assert json.loads(body) == {"status": "OK", "userId": user_id}
    assert "sRefreshToken=" in browser.sent_cookies[-1]
    assert browser.cookie("sAccessToken") not in (None, access)
    assert browser.cookie("sRefreshToken", RENEW) not in (None, refresh)
    status, _headers, body = browser.request("GET", "/protected")
    assert status == 200 and user_id.encode() in body

    # Refresh as a form post from the refresh page without script: back to where it was going.
    status, headers, _body = browser.request("POST", RENEW + "?redirect=%2Fprotected%3Fx%3D1")
    assert status == 303 and headers["Location"] == "/protected?x=1"
    status, headers, _body = browser.request("POST", RENEW + "?redirect=%2F%2Fevil.example%2F")
    assert status == 303 and headers["Location"] == "/protected"  # never an open redirect
    last_refresh = browser.cookie("sRefreshToken", RENEW)

    status, headers, _body = browser.request("POST", "/logout")
    assert status == 303 and headers["Location"] == "/"
    assert browser.jar == {}, browser.jar  # both cookies cleared
    assert client.list_sessions(user_id).session_handles == ()
    checked = client.verify_session(browser.sent_cookies[-1].split("sAccessToken=")[1].split(";")[0],
                                    check_database=True)
    assert checked.outcome is VerifyOutcome.UNAUTHORISED, outcome_name(checked)

    # Refused afterwards: no cookies, and a replayed refresh token.
    status, headers, _body = browser.request("GET", "/protected")
    assert status == 303 and headers["Location"] == "/"
    status, _headers, body = browser.request("GET", "/protected", xhr=True)
    assert status == 401 and json.loads(body) == {"message": "unauthorised"}
    browser.jar[("sRefreshToken", RENEW)] = last_refresh
    status, _headers, body = browser.request("POST", RENEW, xhr=True)
    assert status == 401 and json.loads(body) == {"message": "unauthorised"}
    assert browser.jar == {}


def test_xhr_login_and_bad_user_names(webapp_url: str) -> None:
    browser = Browser(webapp_url)
    user_id = new_user()
    status, _headers, body = browser.request("POST", "/login", {"username": user_id}, xhr=True)
    assert status == 200 and json.loads(body) == {"userId": user_id}
    assert browser.cookie("sAccessToken")

    status, _headers, body = browser.request("POST", "/login", {"username": "  "})
    assert status == 400 and b'id="error"' in body
    status, _headers, body = browser.request("POST", "/login", {"username": "x" * 300}, xhr=True)
    assert status == 400 and "user_id" in json.loads(body)["message"]  # the sidecar's INVALID_ARGUMENT


def test_a_stolen_refresh_token_is_refused_and_logs_out(webapp_url: str, client: Client) -> None:
    browser = Browser(webapp_url)
    user_id = new_user()
    browser.request("POST", "/login", {"username": user_id})
    original = browser.cookie("sRefreshToken", RENEW)
    for _ in range(2):
        status, _headers, _body = browser.request("POST", RENEW, xhr=True)
        assert status == 200
    browser.jar[("sRefreshToken", RENEW)] = original  # two rotations back: theft
    status, _headers, body = browser.request("POST", RENEW, xhr=True)
    assert status == 401 and json.loads(body) == {"message": "token theft detected"}
    assert browser.jar == {}
    assert client.list_sessions(user_id).session_handles == ()


def test_the_refresh_page_posts_to_the_renew_path_and_returns(webapp_url: str) -> None:
    status, _headers, body = Browser(webapp_url).request("GET", RENEW + "?redirect=%2Fprotected")
    assert status == 200
    page = body.decode()
    assert 'fetch("/auth/session/refresh", {method: "POST"' in page
    assert 'location.replace(response.ok ? "/protected" : "/")' in page
    assert 'action="/auth/session/refresh?redirect=%2Fprotected"' in page  # the no-script fallback


def test_unknown_path_and_wrong_method(webapp_url: str) -> None:
    browser = Browser(webapp_url)
    assert browser.request("GET", "/nowhere")[0] == 404
    assert browser.request("GET", "/favicon.ico")[0] == 204  # no console error in a browser
    status, headers, _body = browser.request("GET", "/logout")
    assert status == 405 and headers["Allow"] == "POST"


# ---------------------------------------------------------------------------------------------------------
# The TRY_REFRESH_TOKEN answers, with a stand-in sidecar


class ExpiredTokenSidecar:
    """Answers every verification as an expired access token would be answered."""

    def __init__(self) -> None:
        self.revoked: List[Any] = []

    def verify_session(self, access_token: str, *args: Any, **kwargs: Any) -> VerifySessionResult:
        return VerifySessionResult(VerifyOutcome.TRY_REFRESH_TOKEN, "access token expired", None)

    def revoke_sessions(self, *args: Any, **kwargs: Any) -> None:
        self.revoked.append((args, kwargs))


def call_app(app: Any, method: str, path: str, xhr: bool,
             cookie: str = "sAccessToken=expired") -> Tuple[str, Dict[str, List[str]], bytes]:
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "HTTP_COOKIE": cookie,
        "HTTP_HOST": "localhost:8080", "HTTP_ACCEPT": "application/json" if xhr else "text/html,*/*",
        "wsgi.input": io.BytesIO(b""), "CONTENT_LENGTH": "0", "wsgi.url_scheme": "http",
    }
    if xhr:
        environ["HTTP_X_REQUESTED_WITH"] = "XMLHttpRequest"
    answer: Dict[str, Any] = {}

    def start_response(status: str, headers: List[Tuple[str, str]]) -> None:
        answer["status"] = status
        answer["headers"] = headers

    body = b"".join(app(environ, start_response))
    headers: Dict[str, List[str]] = {}
    for name, value in answer["headers"]:
        headers.setdefault(name, []).append(value)
    return answer["status"], headers, body


def test_expired_access_token_answers_try_refresh_or_goes_through_the_refresh_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RENEW_TOKEN_PATH", raising=False)
    webapp = load_webapp()
    sidecar = ExpiredTokenSidecar()
    app = webapp.App(sidecar)
    assert app.renew_token_path == RENEW

    for path in ("/protected", "/api/session"):
        status, _headers, body = call_app(app, "GET", path, xhr=True)
        assert status == "401 Unauthorized" and json.loads(body) == {"message": "try refresh token"}, path

    status, headers, _body = call_app(app, "GET", "/protected?tab=2", xhr=False)
    assert status == "303 See Other"
    assert headers["Location"] == [RENEW + "?redirect=%2Fprotected%3Ftab%3D2"]
    assert "Set-Cookie" not in headers  # the cookies stay: the refresh page needs the refresh cookie

    # Logging out with an expired token asks the page's script to refresh first, so that it can revoke.
    status, headers, body = call_app(app, "POST", "/logout", xhr=True)
    assert status == "401 Unauthorized" and json.loads(body) == {"message": "try refresh token"}
    assert sidecar.revoked == []


def test_renew_token_path_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RENEW_TOKEN_PATH", "/custom/refresh")
    app = load_webapp().App(ExpiredTokenSidecar())
    assert app.renew_token_path == "/custom/refresh"
    status, headers, _body = call_app(app, "GET", "/protected", xhr=False)
    assert headers["Location"] == ["/custom/refresh?redirect=%2Fprotected"]
    status, _headers, body = call_app(app, "GET", "/custom/refresh?redirect=/protected", xhr=False)
    assert status == "200 OK" and b'fetch("/custom/refresh"' in body
    status, headers, _body = call_app(app, "POST", "/logout", xhr=False, cookie="")
    cleared = headers["Set-Cookie"]
    assert any(value.startswith("sRefreshToken=; Path=/custom/refresh;") and "Domain=localhost" in value
               for value in cleared), cleared
    assert any(value.startswith("sAccessToken=; Path=/;") and "Max-Age=0" in value for value in cleared), cleared


def test_sidecar_down_is_503(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    webapp = load_webapp()
    with Client(str(tmp_path / "missing.sock")) as down:
        status, _headers, body = call_app(webapp.App(down), "GET", "/protected", xhr=True)
    assert status == "503 Service Unavailable"
    assert json.loads(body) == {"message": "session service unavailable"}


def test_cookie_header_stays_the_sidecars(client: Client) -> None:
    """What the app forwards is the sidecar's Set-Cookie value, untouched."""
    webapp = load_webapp()
    created = client.create_session(new_user())
    app = webapp.App(client)
    headers = app.set_cookies(created.cookies)
    assert headers == [("Set-Cookie", cookie.set_cookie_header) for cookie in created.cookies]
    assert all(isinstance(cookie, Cookie) for cookie in created.cookies)
