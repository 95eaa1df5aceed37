#!/usr/bin/env python3
"""A small web app whose logins are SessionSidecar sessions: the standard library (wsgiref) plus this client.

    python clients/python/examples/webapp.py --port 8080 [--socket PATH]

then open http://localhost:8080/ (the test sidecar's cookies carry Domain=localhost: use that name, not
127.0.0.1). Pages and APIs, all driven by cookies only:

    GET  /                 the login form (field "username")
    POST /login            creates a session for that user name and forwards the sidecar's Set-Cookie values;
                           a browser is sent on to /protected (303), an XHR gets {"userId": ...}
    GET  /protected        verifies the sAccessToken cookie and shows the user id; when the access token has
                           expired: an XHR gets 401 {"message": "try refresh token"}, a browser is redirected
                           to the refresh page, which refreshes and comes straight back
    GET  /api/session      the session as JSON (what the protected page's script polls), same 401s as above
    GET  <renewTokenPath>  the refresh page: a script POSTs to <renewTokenPath>, then returns to ?redirect=
    POST <renewTokenPath>  refreshes with the sRefreshToken cookie (its Path is this path, so the browser sends
                           it nowhere else) and forwards the new Set-Cookie values; a form post is sent on
                           to ?redirect= (303), an XHR gets {"status": "OK"}
    POST /logout           revokes the session and clears both cookies

renewTokenPath is $RENEW_TOKEN_PATH (default /auth/session/refresh) and must equal the sidecar's
tokens.refreshToken.renewTokenPath. While the protected page is open, its script asks /api/session again just
after the access token expires: a "try refresh token" answer makes it refresh and ask again, so the page stays
signed in without the user noticing; a page loaded after expiry goes through the refresh page the same way.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import urllib.parse
from socketserver import ThreadingMixIn
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

try:
    import sessionsidecar  # noqa: F401  (installed with `pip install ./clients/python`)
except ImportError:  # run from a checkout without installing: use the package beside this folder
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from sessionsidecar import (  # noqa: E402
    Client, Code, RefreshOutcome, SidecarConnectionError, SidecarError, SidecarStatusError, SidecarTimeoutError,
    VerifyOutcome,
)

ACCESS_COOKIE = "sAccessToken"
REFRESH_COOKIE = "sRefreshToken"
DEFAULT_RENEW_TOKEN_PATH = "/auth/session/refresh"
MAX_FORM_BYTES = 64 * 1024

Headers = List[Tuple[str, str]]
StartResponse = Callable[..., Any]

STATUS_TEXT = {
    200: "200 OK", 204: "204 No Content", 303: "303 See Other", 400: "400 Bad Request", 401: "401 Unauthorized", 404: "404 Not Found",
    405: "405 Method Not Allowed", 413: "413 Payload Too Large", 500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}
input,button{{font:inherit;padding:.3rem .6rem}} .error{{color:#a00}}</style></head>
<body>
{body}
</body></html>
"""


def local_path(value: Optional[str], default: str = "/protected") -> str:
    """`value` when it is a path on this site, else `default` (never an open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in value):
        return default
    return value


def js_string(value: str) -> str:
    """A JavaScript string literal that is safe inside a <script> element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class App:
    """The WSGI application. `sidecar` is a `sessionsidecar.Client` (anything with its methods will do)."""

    def __init__(self, sidecar: Any, renew_token_path: Optional[str] = None,
                 cookie_domain: Optional[str] = None) -> None:
        self.sidecar = sidecar
        self.renew_token_path = renew_token_path or os.environ.get("RENEW_TOKEN_PATH") or DEFAULT_RENEW_TOKEN_PATH
        if not self.renew_token_path.startswith("/"):
            raise ValueError(f"the renew token path must start with '/', not {self.renew_token_path!r}")
        self.cookie_domain = cookie_domain or os.environ.get("COOKIE_DOMAIN") or None
        #: The Domain attributes of the sidecar's cookies seen so far, to clear cookies with the same one.
        self._seen_domains: set = set()
        self._warned_path = False

    # ------------------------------------------------------------------------------------------------------
    # WSGI

    def __call__(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "/") or "/"
        routes = {
            "/": {"GET": self.login_page},
            "/login": {"POST": self.login},
            "/protected": {"GET": self.protected_page},
            "/api/session": {"GET": self.session_api},
            "/logout": {"POST": self.logout},
            "/favicon.ico": {"GET": self.no_content},
            self.renew_token_path: {"GET": self.refresh_page, "POST": self.refresh},
        }
        handlers = routes.get(path)
        if handlers is None:
            return self.reply(start_response, environ, 404, message="not found")
        handler = handlers.get(method)
        if handler is None:
            return self.reply(start_response, environ, 405, message="method not allowed",
                              headers=[("Allow", ", ".join(sorted(handlers)))])
        try:
            return handler(environ, start_response)
        except (SidecarConnectionError, SidecarTimeoutError) as error:
            print(f"webapp: the sidecar is unavailable: {error}", file=sys.stderr)
            return self.reply(start_response, environ, 503, message="session service unavailable")
        except SidecarError as error:
            print(f"webapp: sidecar error: {error}", file=sys.stderr)
            return self.reply(start_response, environ, 500, message="session service error")

    # ------------------------------------------------------------------------------------------------------
    # Pages and APIs

    def login_page(self, environ: Dict[str, Any], start_response: StartResponse, error: str = "",
                   status: int = 200) -> Iterable[bytes]:
        notice = f'<p class="error" id="error">{html.escape(error)}</p>' if error else ""
        body = f"""<h1>Log in</h1>
{notice}
<form method="post" action="/login" id="login-form">
  <label>User name <input name="username" id="username" autocomplete="username" required maxlength="255"></label>
  <button type="submit" id="login">Log in</button>
</form>
<p><a href="/protected">Protected page</a></p>"""
        return self.html(start_response, status, "Log in", body)

    def login(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        form = self.form(environ)
        if form is None:
            return self.reply(start_response, environ, 413, message="form too large")
        username = form.get("username", "").strip()
        if not username:
            return self.login_failed(environ, start_response, "enter a user name")
        try:
            created = self.sidecar.create_session(username)
        except SidecarStatusError as error:
            if error.code == Code.INVALID_ARGUMENT:  # e.g. a user id over 255 bytes
                return self.login_failed(environ, start_response, f"that user name cannot be used: {error.message}")
            raise
        headers = self.set_cookies(created.cookies)
        if self.is_xhr(environ):
            return self.json(start_response, 200, {"userId": created.session.user_id}, headers)
        return self.redirect(start_response, "/protected", headers)

    def login_failed(self, environ: Dict[str, Any], start_response: StartResponse, message: str) -> Iterable[bytes]:
        if self.is_xhr(environ):
            return self.json(start_response, 400, {"message": message})
        return self.login_page(environ, start_response, error=message, status=400)

    def protected_page(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        verified, refusal = self.verify(environ, start_response)
        if refusal is not None:
            return refusal
        session = verified.session
        user_id = html.escape(session.user_id)
        body = f"""<h1>Protected page</h1>
<p>Signed in as <strong id="user-id">{user_id}</strong>.</p>
<p>Session <code id="session-handle">{html.escape(session.handle)}</code>; this access token expires at
<time id="expires" datetime="{session.expires_at_ms}">{session.expires_at_ms}</time> (ms since the epoch)
and is refreshed without reloading the page.</p>
<form method="post" action="/logout" id="logout"><button type="submit" id="logout-button">Log out</button></form>
<script>
(function () {{
  var renewPath = {js_string(self.renew_token_path)};
  var headers = {{"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}};
  var timer = null;
  function refresh() {{
    return fetch(renewPath, {{method: "POST", credentials: "same-origin", headers: headers}})
      .then(function (response) {{ return response.ok; }});
  }}
  // One request, refreshed and sent again once if the server answers "try refresh token".
  function call(path, method) {{
    var init = {{method: method || "GET", credentials: "same-origin", headers: headers}};
    return fetch(path, init).then(function (response) {{
      if (response.status !== 401) return response;
      return response.clone().json().catch(function () {{ return {{}}; }}).then(function (body) {{
        if (body.message !== "try refresh token") return response;
        return refresh().then(function (ok) {{ return ok ? fetch(path, init) : response; }});
      }});
    }});
  }}
  function schedule(expiresAtMs) {{
    clearTimeout(timer);
    timer = setTimeout(check, Math.max(1000, expiresAtMs - Date.now() + 500));
  }}
  function check() {{
    call("/api/session").then(function (response) {{
      if (response.status === 401) {{ location.replace("/"); return; }}
      if (!response.ok) {{ schedule(Date.now() + 5000); return; }}
      return response.json().then(function (session) {{
        document.getElementById("user-id").textContent = session.userId;
        var expires = document.getElementById("expires");
        expires.dateTime = String(session.accessTokenExpiresAtMs);
        expires.textContent = new Date(session.accessTokenExpiresAtMs).toLocaleTimeString();
        schedule(session.accessTokenExpiresAtMs);
      }});
    }}).catch(function () {{ schedule(Date.now() + 5000); }});
  }}
  document.getElementById("logout").addEventListener("submit", function (event) {{
    event.preventDefault();
    call("/logout", "POST").finally(function () {{ location.replace("/"); }});
  }});
  document.addEventListener("visibilitychange", function () {{ if (!document.hidden) check(); }});
  var expires = document.getElementById("expires");
  expires.textContent = new Date({session.expires_at_ms}).toLocaleTimeString();
  schedule({session.expires_at_ms});
}})();
</script>"""
        return self.html(start_response, 200, "Protected page", body)

    def session_api(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        verified, refusal = self.verify(environ, start_response, xhr=True)
        if refusal is not None:
            return refusal
        session = verified.session
        return self.json(start_response, 200, {
            "userId": session.user_id, "sessionHandle": session.handle,
            "accessTokenExpiresAtMs": session.expires_at_ms,
        })

    def refresh_page(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = local_path(self.query(environ).get("redirect"))
        action = self.renew_token_path + "?" + urllib.parse.urlencode({"redirect": target})
        body = f"""<p id="refreshing">Refreshing your session…</p>
<noscript><form method="post" action="{html.escape(action)}"><button type="submit">Continue</button></form></noscript>
<script>
fetch({js_string(self.renew_token_path)}, {{method: "POST", credentials: "same-origin",
  headers: {{"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}}}})
  .then(function (response) {{ location.replace(response.ok ? {js_string(target)} : "/"); }})
  .catch(function () {{ location.replace("/"); }});
</script>"""
        return self.html(start_response, 200, "Refreshing", body)

    def refresh(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        xhr = self.is_xhr(environ)
        refresh_token = self.cookies(environ).get(REFRESH_COOKIE)
        if not refresh_token:
            return self.refused(environ, start_response, "unauthorised", xhr)
        refreshed = self.sidecar.refresh_session(refresh_token)
        if refreshed.outcome is RefreshOutcome.TOKEN_THEFT_DETECTED:
            handle = refreshed.session.handle if refreshed.session else "?"
            print(f"webapp: refresh token theft detected; session {handle} revoked", file=sys.stderr)
            return self.refused(environ, start_response, "token theft detected", xhr)
        if refreshed.outcome is not RefreshOutcome.OK:
            return self.refused(environ, start_response, "unauthorised", xhr)
        headers = self.set_cookies(refreshed.cookies)  # no sRefreshToken inside the grace period: keep the current
        if xhr:
            return self.json(start_response, 200, {"status": "OK", "userId": refreshed.session.user_id}, headers)
        return self.redirect(start_response, local_path(self.query(environ).get("redirect")), headers)

    def logout(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        xhr = self.is_xhr(environ)
        access_token = self.cookies(environ).get(ACCESS_COOKIE)
        if access_token:
            verified = self.sidecar.verify_session(access_token)
            if verified.outcome is VerifyOutcome.OK:
                self.sidecar.revoke_sessions(session_handles=[verified.session.handle])
            elif verified.outcome is VerifyOutcome.TRY_REFRESH_TOKEN and xhr:
                # The page's script refreshes and logs out again, so that the session is revoked, not only
                # forgotten by this browser (a form post without the script just clears the cookies).
                return self.json(start_response, 401, {"message": "try refresh token"})
        headers = self.clear_cookies(environ)
        if xhr:
            return self.json(start_response, 200, {"status": "OK"}, headers)
        return self.redirect(start_response, "/", headers)

    def no_content(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response(STATUS_TEXT[204], [("Cache-Control", "max-age=86400")])
        return []

    # ------------------------------------------------------------------------------------------------------
    # Sessions

    def verify(self, environ: Dict[str, Any], start_response: StartResponse,
               xhr: Optional[bool] = None) -> Tuple[Any, Optional[Iterable[bytes]]]:
        """(the VerifySessionResult, None) when the access token is good, else (None, the refusal to send)."""
        xhr = self.is_xhr(environ) if xhr is None else xhr
        access_token = self.cookies(environ).get(ACCESS_COOKIE)
        if not access_token:
            return None, self.refused(environ, start_response, "unauthorised", xhr, clear=False)
        verified = self.sidecar.verify_session(access_token)
        if verified.outcome is VerifyOutcome.OK:
            return verified, None
        if verified.outcome is VerifyOutcome.TRY_REFRESH_TOKEN:
            if xhr:
                return None, self.json(start_response, 401, {"message": "try refresh token"})
            here = environ.get("PATH_INFO", "/")
            if environ.get("QUERY_STRING"):
                here += "?" + environ["QUERY_STRING"]
            page = self.renew_token_path + "?" + urllib.parse.urlencode({"redirect": local_path(here)})
            return None, self.redirect(start_response, page)
        return None, self.refused(environ, start_response, "unauthorised", xhr)

    def refused(self, environ: Dict[str, Any], start_response: StartResponse, message: str, xhr: bool,
                clear: bool = True) -> Iterable[bytes]:
        """401 JSON for an XHR, else back to the login form; the session's cookies are cleared."""
        headers = self.clear_cookies(environ) if clear else []
        if xhr:
            return self.json(start_response, 401, {"message": message}, headers)
        return self.redirect(start_response, "/", headers)

    def set_cookies(self, cookies: Iterable[Any]) -> Headers:
        headers = []
        for cookie in cookies:
            headers.append(("Set-Cookie", cookie.set_cookie_header))
            if cookie.domain:
                self._seen_domains.add(cookie.domain)
            if cookie.name == REFRESH_COOKIE and cookie.path != self.renew_token_path and not self._warned_path:
                self._warned_path = True
                print(f"webapp: warning: the sidecar's refresh cookie has Path={cookie.path}, but this app refreshes "
                      f"at {self.renew_token_path} (set RENEW_TOKEN_PATH to the sidecar's renewTokenPath)",
                      file=sys.stderr)
        return headers

    def clear_cookies(self, environ: Dict[str, Any]) -> Headers:
        """Set-Cookie headers that delete both cookies: host-only, and with each Domain they may carry."""
        domains = {self.cookie_domain} if self.cookie_domain else set(self._seen_domains)
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or ""
        host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if host and not self.cookie_domain:
            domains.add(host.strip("[]"))
        secure = "; Secure" if environ.get("wsgi.url_scheme") == "https" else ""
        headers = []
        for name, path in ((ACCESS_COOKIE, "/"), (REFRESH_COOKIE, self.renew_token_path)):
            base = f"{name}=; Path={path}; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; SameSite=Lax"
            headers.append(("Set-Cookie", base + secure))
            for domain in sorted(domains):
                headers.append(("Set-Cookie", f"{base}; Domain={domain}{secure}"))
        return headers

    # ------------------------------------------------------------------------------------------------------
    # HTTP helpers

    @staticmethod
    def is_xhr(environ: Dict[str, Any]) -> bool:
        """A script's request (fetch/XHR) rather than a browser navigation."""
        if environ.get("HTTP_X_REQUESTED_WITH", "").lower() == "xmlhttprequest":
            return True
        return "text/html" not in environ.get("HTTP_ACCEPT", "")

    @staticmethod
    def cookies(environ: Dict[str, Any]) -> Dict[str, str]:
        jar: Dict[str, str] = {}
        for part in environ.get("HTTP_COOKIE", "").split(";"):
            name, separator, value = part.strip().partition("=")
            if separator and name and name not in jar:  # the first one is the most specific path
                jar[name] = value
        return jar

    @staticmethod
    def query(environ: Dict[str, Any]) -> Dict[str, str]:
        return {key: values[0] for key, values in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items()}

    @staticmethod
    def form(environ: Dict[str, Any]) -> Optional[Dict[str, str]]:
        """The posted form (urlencoded or a JSON object), or None when it is too large."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_FORM_BYTES:
            return None
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        if environ.get("CONTENT_TYPE", "").startswith("application/json"):
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                return {}
            return {str(key): str(value) for key, value in data.items()} if isinstance(data, dict) else {}
        parsed = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        return {key: values[0] for key, values in parsed.items()}

    @staticmethod
    def respond(start_response: StartResponse, status: int, content_type: str, body: bytes,
                headers: Optional[Headers] = None) -> Iterable[bytes]:
        start_response(STATUS_TEXT[status], [
            ("Content-Type", content_type), ("Content-Length", str(len(body))), ("Cache-Control", "no-store"),
        ] + list(headers or []))
        return [body]

    def html(self, start_response: StartResponse, status: int, title: str, body: str,
             headers: Optional[Headers] = None) -> Iterable[bytes]:
        page = PAGE.format(title=html.escape(title), body=body).encode()
        return self.respond(start_response, status, "text/html; charset=utf-8", page, headers)

    def json(self, start_response: StartResponse, status: int, value: Any,
             headers: Optional[Headers] = None) -> Iterable[bytes]:
        return self.respond(start_response, status, "application/json", json.dumps(value).encode(), headers)

    def redirect(self, start_response: StartResponse, location: str,
                 headers: Optional[Headers] = None) -> Iterable[bytes]:
        body = f'<a href="{html.escape(location)}">{html.escape(location)}</a>\n'.encode()
        return self.respond(start_response, 303, "text/html; charset=utf-8", body,
                            [("Location", location)] + list(headers or []))

    def reply(self, start_response: StartResponse, environ: Dict[str, Any], status: int, message: str,
              headers: Optional[Headers] = None) -> Iterable[bytes]:
        if self.is_xhr(environ):
            return self.json(start_response, status, {"message": message}, headers)
        return self.html(start_response, status, message, f"<h1>{html.escape(message)}</h1>", headers)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per request (the client is shared by them all)."""

    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        pass


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="An example web app on the SessionSidecar.")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (0: any free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--socket", default=None, help="the sidecar's socket (default: $SESSION_SIDECAR_SOCKET)")
    parser.add_argument("--renew-token-path", default=None,
                        help=f"the refresh path (default: $RENEW_TOKEN_PATH or {DEFAULT_RENEW_TOKEN_PATH})")
    parser.add_argument("--cookie-domain", default=None,
                        help="Domain to clear cookies with at logout (default: $COOKIE_DOMAIN, else as seen)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    options = parser.parse_args(argv)
    try:
        sidecar = Client(options.socket)
    except ValueError as error:
        parser.error(str(error))
    app = App(sidecar, options.renew_token_path, options.cookie_domain)
    handler = QuietHandler if options.quiet else WSGIRequestHandler
    with make_server(options.host, options.port, app, server_class=ThreadingWSGIServer,
                     handler_class=handler) as server:
        port = server.server_address[1]
        print(f"serving on http://localhost:{port}/ (sidecar {sidecar.socket_path}, "
              f"renewTokenPath {app.renew_token_path})", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sidecar.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
