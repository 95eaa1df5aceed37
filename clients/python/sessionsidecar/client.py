"""`Client`: the blocking, thread-safe client. One Unix-socket connection, shared by every thread that uses the
client, with many requests in flight at once; a reader thread hands each response to the caller waiting on its
id. A call made after the connection dropped (the sidecar restarted) connects again; a call in flight when the
connection drops fails with `SidecarConnectionError`.
"""

from __future__ import annotations

import itertools
import os
import queue
import selectors
import socket
import threading
import time
import weakref
from typing import Any, Dict, Iterable, Iterator, Optional, Union

from . import _wire as w
from .errors import (
    ClientClosedError, Code, SidecarConnectionError, SidecarError, SidecarProtocolError, SidecarStatusError,
    SidecarTimeoutError,
)
from .types import (
    CreateSessionResult, Health, ListSessionsResult, RefreshSessionResult, RegenerateAccessTokenResult,
    RevokeSessionsResult, SessionInfo, SigningKeys, VerifySessionResult,
)
from .v1 import sidecar_pb2 as pb

_READ_SIZE = 256 * 1024
IN_FLIGHT = " while the call was in flight (it may or may not have been carried out)"


def _deadline(timeout: Optional[float]) -> Optional[float]:
    return None if timeout is None else time.monotonic() + timeout


def _remaining(deadline: Optional[float]) -> Optional[float]:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def for_call(error: SidecarError, request_id: int, call: str, suffix: str = "") -> SidecarError:
    """A copy of a connection-wide error that names the request it ended (and a word on what that means)."""
    if isinstance(error, SidecarStatusError):
        return SidecarStatusError(error.code, error.message, request_id, call)
    return type(error)(error.message + suffix, error.code, request_id, call)


def connection_lost(status: Optional[pb.Status], reason: str) -> SidecarConnectionError:
    """The error for a connection the sidecar ended, naming the connection-level status it sent first, if any."""
    if status is not None:
        return SidecarConnectionError(
            f"the sidecar closed the connection after a connection-level error: {status.message}", status.code)
    return SidecarConnectionError(reason)


class _NotSent(Exception):
    """Sending failed before the sidecar could have received the whole frame: safe to send again elsewhere."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _Stale(Exception):
    """The connection broke before the request was registered on it."""


class _Slot:
    """A request awaiting its answer(s); the queue receives responses, or the error that ended the connection."""

    __slots__ = ("conn", "stream", "call", "queue")

    def __init__(self, conn: "_Connection", stream: bool, call: str) -> None:
        self.conn = conn
        self.stream = stream
        self.call = call
        self.queue: "queue.SimpleQueue[Any]" = queue.SimpleQueue()


class _Demux:
    """The requests awaiting answers, by id: shared by the client's callers and its connections' readers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: Dict[int, _Slot] = {}

    def add(self, request_id: int, conn: "_Connection", stream: bool, call: str) -> _Slot:
        with self.lock:
            if conn.error is not None or conn.dead:
                raise _Stale()
            if request_id in self.pending:
                raise ValueError(f"request id {request_id} is already awaiting an answer")
            slot = self.pending[request_id] = _Slot(conn, stream, call)
            return slot

    def get(self, request_id: int) -> Optional[_Slot]:
        with self.lock:
            return self.pending.get(request_id)

    def remove(self, request_id: int, slot: _Slot) -> None:
        with self.lock:
            if self.pending.get(request_id) is slot:
                del self.pending[request_id]

    def deliver(self, conn: "_Connection", response: pb.Response) -> None:
        with self.lock:
            slot = self.pending.get(response.id)
            if slot is not None and slot.conn is conn:
                slot.queue.put(response)
        # else: an answer whose caller gave up (timeout, closed watch): dropped.

    def fail(self, conn: "_Connection", error: SidecarError) -> None:
        with self.lock:
            if conn.error is None:
                conn.error = error
            for slot in self.pending.values():
                if slot.conn is conn:
                    slot.queue.put(conn.error)


class _Connection:
    """One socket and the thread that reads it. Senders write under `send_lock`; the socket is non-blocking and
    both directions wait with selectors, so a send can honour its call's deadline while the reader blocks."""

    def __init__(self, path: str, demux: _Demux, max_frame_size: int, deadline: Optional[float]) -> None:
        self.error: Optional[SidecarError] = None  # set (under demux.lock) once the connection is over
        self.dead = False  # set at once when anyone notices the connection is unusable
        self.status: Optional[pb.Status] = None  # a connection-level (id 0) error status the sidecar sent
        self._close_error: Optional[SidecarError] = None
        self._demux = demux
        self._decoder = w.FrameDecoder(max_frame_size)
        self.send_lock = threading.Lock()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(_remaining(deadline))
            sock.connect(path)
            sock.setblocking(False)
        except OSError as error:
            sock.close()
            reason = error.strerror or str(error) or type(error).__name__
            raise SidecarConnectionError(f"cannot connect to the sidecar at {path}: {reason}") from error
        self.sock = sock
        self._thread = threading.Thread(target=self._read_loop, name="sessionsidecar-reader", daemon=True)
        self._thread.start()

    @property
    def usable(self) -> bool:
        return not self.dead and self.error is None

    # -- reading ---------------------------------------------------------------------------------------------

    def _read_loop(self) -> None:
        error: SidecarError
        selector = selectors.DefaultSelector()
        try:
            selector.register(self.sock, selectors.EVENT_READ)
            while True:
                selector.select()
                try:
                    chunk = self.sock.recv(_READ_SIZE)
                except (BlockingIOError, InterruptedError):
                    continue
                if not chunk:
                    raise connection_lost(self.status, "the sidecar closed the connection")
                for payload in self._decoder.feed(chunk):
                    response = w.parse_response(payload)
                    if response.id == 0:
                        if response.status.code != Code.OK:
                            self.status = response.status
                        continue
                    self._demux.deliver(self, response)
        except SidecarError as caught:
            error = caught
        except OSError as caught:
            error = connection_lost(self.status, f"the connection to the sidecar broke: {caught}")
        except BaseException as caught:  # a bug here must not leave callers waiting
            error = SidecarProtocolError(f"the reader failed: {caught!r}")
        finally:
            selector.close()
        self.dead = True
        if self._close_error is not None:
            error = self._close_error
        self._demux.fail(self, error)
        self._shutdown()
        with self.send_lock:  # no sender is inside send(): the descriptor cannot be reused under it
            self.sock.close()

    # -- writing ---------------------------------------------------------------------------------------------

    def send(self, frame: bytes, deadline: Optional[float], request_id: int, call: str) -> None:
        """Write one whole frame before `deadline`.

        Raises `_NotSent` when the socket fails (the sidecar cannot have received the whole frame, so it did not
        act on it), or `SidecarTimeoutError` at the deadline (a frame cut off halfway closes the connection).
        """
        if not self.send_lock.acquire(timeout=-1 if deadline is None else _remaining(deadline)):
            raise SidecarTimeoutError("timed out waiting to send the request", request_id=request_id, call=call)
        try:
            view = memoryview(frame)
            sent = 0
            while sent < len(view):
                try:
                    sent += self.sock.send(view[sent:])
                    continue
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError as error:
                    self.abort(connection_lost(self.status, f"the connection to the sidecar broke: {error}"))
                    raise _NotSent(error) from error
                remaining = _remaining(deadline)
                if remaining is not None and remaining <= 0:
                    if sent:
                        self.abort(SidecarConnectionError(
                            "a request was cut off halfway by its timeout, so the connection was closed"))
                    raise SidecarTimeoutError("timed out sending the request (the sidecar is not reading)",
                                              request_id=request_id, call=call)
                with selectors.DefaultSelector() as selector:
                    selector.register(self.sock, selectors.EVENT_WRITE)
                    selector.select(remaining)
        finally:
            self.send_lock.release()

    # -- ending ----------------------------------------------------------------------------------------------

    def _shutdown(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def abort(self, error: SidecarError) -> None:
        """End the connection; callers waiting on it get `error`. Returns at once (the reader finishes up)."""
        if self._close_error is None:
            self._close_error = error
        self.dead = True
        self._shutdown()

    def close(self, error: SidecarError) -> None:
        """`abort`, then wait for the reader thread (unless this is it)."""
        self.abort(error)
        if threading.current_thread() is not self._thread:
            self._thread.join()


class Client:
    """A blocking client for the SessionSidecar, safe to share between threads.

    ``Client()`` reads the socket path from $SESSION_SIDECAR_SOCKET; ``Client(path)`` uses `path`. It connects
    on first use (or on `connect()`), and again on the next call after the connection dropped. `timeout` is each
    call's default limit in seconds (None waits without limit); every call takes ``timeout=`` to override it.

    Every call method returns a typed result (see `sessionsidecar.types`). Session outcomes are values in the
    result (``result.outcome``), not exceptions. A status that is not OK raises `SidecarStatusError`; see
    `sessionsidecar.errors` for the rest.
    """

    def __init__(
        self,
        socket_path: Optional[Union[str, "os.PathLike[str]"]] = None,
        *,
        timeout: Optional[float] = w.DEFAULT_TIMEOUT,
        max_frame_size: int = w.DEFAULT_MAX_FRAME_SIZE,
    ) -> None:
        self.socket_path = w.resolve_socket_path(socket_path)
        self.timeout = timeout
        self.max_frame_size = max_frame_size
        #: How many connections this client has opened (1 + the reconnections).
        self.connections_opened = 0
        self._ids = itertools.count(1)
        self._demux = _Demux()
        self._conn: Optional[_Connection] = None
        self._connect_lock = threading.Lock()
        self._closed = False
        self._watches: "weakref.WeakSet[SigningKeysWatch]" = weakref.WeakSet()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<sessionsidecar.Client {self.socket_path!r} {state}>"

    # ------------------------------------------------------------------------------------------------------
    # Connection

    def connect(self, timeout: Optional[float] = w.DEFAULT) -> "Client":
        """Connect now (calls connect by themselves); raises `SidecarConnectionError` when that fails."""
        self._connection(_deadline(self._timeout(timeout)))
        return self

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close the connection and the client's watches; calls in flight fail with `ClientClosedError`, later
        calls too."""
        with self._connect_lock:
            if self._closed:
                return
            self._closed = True
            conn, self._conn = self._conn, None
            watches = list(self._watches)
        if conn is not None:
            conn.close(ClientClosedError("the client was closed"))
        for watch in watches:
            watch.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _timeout(self, timeout: Optional[float]) -> Optional[float]:
        return self.timeout if timeout is w.DEFAULT else timeout

    def _connection(self, deadline: Optional[float]) -> _Connection:
        conn = self._conn
        if conn is not None and conn.usable:
            return conn
        if not self._connect_lock.acquire(timeout=-1 if deadline is None else _remaining(deadline)):
            raise SidecarTimeoutError("timed out waiting for another thread to connect")
        try:
            if self._closed:
                raise ClientClosedError("the client is closed")
            conn = self._conn
            if conn is None or not conn.usable:
                conn = _Connection(self.socket_path, self._demux, self.max_frame_size, deadline)
                self._conn = conn
                self.connections_opened += 1
            return conn
        finally:
            self._connect_lock.release()

    # ------------------------------------------------------------------------------------------------------
    # Raw requests: pipelining by hand

    def send(self, request: pb.Request, timeout: Optional[float] = w.DEFAULT) -> int:
        """Send `request` without waiting for its answer; return its id, for `receive`.

        A request whose id is 0 gets the client's next id (ids start at 1 and only increase). A request the
        socket refused is sent again once on a new connection (the sidecar cannot have acted on it).
        """
        return self._send(request, _deadline(self._timeout(timeout)))

    def _send(self, request: pb.Request, deadline: Optional[float]) -> int:
        if request.id == 0:
            request.id = next(self._ids)
        call = request.WhichOneof("call") or ""
        frame = w.encode_request(request, self.max_frame_size)
        failure: Optional[_NotSent] = None
        for _attempt in range(2):
            conn = self._connection(deadline)
            try:
                slot = self._demux.add(request.id, conn, w.is_stream(request), call)
            except _Stale:
                continue
            try:
                conn.send(frame, deadline, request.id, call)
                return request.id
            except _NotSent as error:
                failure = error
                self._demux.remove(request.id, slot)
            except BaseException:
                self._demux.remove(request.id, slot)
                raise
        detail = f": {failure.cause}" if failure is not None else ""
        raise SidecarConnectionError(f"the connection to the sidecar broke while sending the request{detail}",
                                     request_id=request.id, call=call)

    def receive(self, request_id: int, timeout: Optional[float] = w.DEFAULT) -> pb.Response:
        """Wait for the answer to a request `send` sent, and return the raw `Response` (its status unchecked).

        For a stream (WatchSigningKeys) each call returns its next answer. A timeout raises
        `SidecarTimeoutError` and drops the request (a stream stays open); a broken connection raises
        `SidecarConnectionError`.
        """
        timeout = self._timeout(timeout)
        return self._receive(request_id, _deadline(timeout), timeout)

    def _receive(self, request_id: int, deadline: Optional[float], timeout: Optional[float]) -> pb.Response:
        slot = self._demux.get(request_id)
        if slot is None:
            raise KeyError(f"no request with id {request_id} is awaiting an answer")
        try:
            item = slot.queue.get(timeout=_remaining(deadline))
        except queue.Empty:
            if not slot.stream:
                self._demux.remove(request_id, slot)
            raise SidecarTimeoutError(f"no answer within {timeout:g} s", request_id=request_id,
                                      call=slot.call) from None
        if isinstance(item, BaseException):
            self._demux.remove(request_id, slot)
            raise for_call(item, request_id, slot.call, IN_FLIGHT if not slot.stream else "") from item
        if not slot.stream:
            self._demux.remove(request_id, slot)
        return item

    def forget(self, request_id: int) -> None:
        """Stop waiting for a request's answers (a stream's later answers are dropped as they arrive)."""
        slot = self._demux.get(request_id)
        if slot is not None:
            self._demux.remove(request_id, slot)

    def call(self, request: pb.Request, timeout: Optional[float] = w.DEFAULT) -> pb.Response:
        """`send` then `receive`, within one timeout."""
        timeout = self._timeout(timeout)
        deadline = _deadline(timeout)
        return self._receive(self._send(request, deadline), deadline, timeout)

    def _invoke(self, spec: w.CallSpec, timeout: Optional[float]) -> Any:
        timeout = self._timeout(timeout)
        deadline = _deadline(timeout)
        request_id = self._send(spec.request(), deadline)
        return spec.result(self._receive(request_id, deadline, timeout))

    # ------------------------------------------------------------------------------------------------------
    # Sessions

    def create_session(
        self,
        user_id: str,
        access_token_payload: w.JsonObject = None,
        session_data: w.JsonObject = None,
        *,
        enable_anti_csrf: bool = False,
        use_static_key: bool = False,
        timeout: Optional[float] = w.DEFAULT,
    ) -> CreateSessionResult:
        """Create a session; the members of `access_token_payload` become top-level claims of the access token,
        `session_data` stays server-side. JSON objects may be mappings or JSON strings."""
        return self._invoke(w.create_session(user_id, access_token_payload, session_data, enable_anti_csrf,
                                             use_static_key), timeout)

    def verify_session(
        self,
        access_token: str,
        anti_csrf_token: str = "",
        do_anti_csrf_check: bool = False,
        check_database: bool = False,
        *,
        timeout: Optional[float] = w.DEFAULT,
    ) -> VerifySessionResult:
        """Verify an access token: ``outcome`` is OK, TRY_REFRESH_TOKEN or UNAUTHORISED."""
        return self._invoke(w.verify_session(access_token, anti_csrf_token, do_anti_csrf_check, check_database),
                            timeout)

    def refresh_session(
        self, refresh_token: str, anti_csrf_token: str = "", *, timeout: Optional[float] = w.DEFAULT,
    ) -> RefreshSessionResult:
        """Rotate a refresh token: ``outcome`` is OK, UNAUTHORISED or TOKEN_THEFT_DETECTED."""
        return self._invoke(w.refresh_session(refresh_token, anti_csrf_token), timeout)

    def revoke_sessions(
        self,
        session_handles: Optional[Iterable[str]] = None,
        user_id: Optional[str] = None,
        *,
        timeout: Optional[float] = w.DEFAULT,
    ) -> RevokeSessionsResult:
        """Revoke the given sessions, or every session of `user_id` (give exactly one of the two)."""
        return self._invoke(w.revoke_sessions(session_handles, user_id), timeout)

    def list_sessions(self, user_id: str, *, timeout: Optional[float] = w.DEFAULT) -> ListSessionsResult:
        """The handles of a user's live sessions."""
        return self._invoke(w.list_sessions(user_id), timeout)

    def get_session(self, session_handle: str, *, timeout: Optional[float] = w.DEFAULT) -> SessionInfo:
        """What the database holds for a session (NOT_FOUND when it is gone)."""
        return self._invoke(w.get_session(session_handle), timeout)

    def update_session_data(
        self, session_handle: str, session_data: w.JsonObject, *, timeout: Optional[float] = w.DEFAULT,
    ) -> None:
        """Replace a session's server-side data."""
        return self._invoke(w.update_session_data(session_handle, session_data), timeout)

    def update_access_token_payload(
        self, session_handle: str, access_token_payload: w.JsonObject, *, timeout: Optional[float] = w.DEFAULT,
    ) -> None:
        """Replace the app's claims that the session's next access token will carry."""
        return self._invoke(w.update_access_token_payload(session_handle, access_token_payload), timeout)

    def regenerate_access_token(
        self, access_token: str, access_token_payload: w.JsonObject = None, *,
        timeout: Optional[float] = w.DEFAULT,
    ) -> RegenerateAccessTokenResult:
        """A new access token with the same expiry carrying a new app payload (UNAUTHENTICATED if forged)."""
        return self._invoke(w.regenerate_access_token(access_token, access_token_payload), timeout)

    # ------------------------------------------------------------------------------------------------------
    # Keys and health

    def get_signing_keys(self, *, timeout: Optional[float] = w.DEFAULT) -> SigningKeys:
        """The public signing keys and the JWK Set a verifier needs."""
        return self._invoke(w.get_signing_keys(), timeout)

    def watch_signing_keys(self, *, timeout: Optional[float] = w.DEFAULT) -> "SigningKeysWatch":
        """An iterator over the key set: the current set first, then the new set each time it changes.

        It runs on a connection of its own (closing the iterator ends the stream on the sidecar); close it, or
        use it in a ``with`` block (closing the client closes it too). `timeout` bounds the wait for each item; by default the first item is
        awaited for the client's timeout and later ones without limit. A broken connection (the sidecar
        restarted) raises `SidecarConnectionError` from the iterator: watch again to resume.
        """
        with self._connect_lock:
            if self._closed:
                raise ClientClosedError("the client is closed", call="watch_signing_keys")
        watch = SigningKeysWatch(self.socket_path, self.timeout, timeout, self.max_frame_size)
        self._watches.add(watch)
        return watch

    def health(self, *, timeout: Optional[float] = w.DEFAULT) -> Health:
        """Whether the sidecar serves and reaches its database, and its version."""
        return self._invoke(w.health(), timeout)


class SigningKeysWatch(Iterator[SigningKeys]):
    """The iterator `Client.watch_signing_keys` returns: a WatchSigningKeys stream on its own connection."""

    def __init__(self, socket_path: str, call_timeout: Optional[float], timeout: Optional[float],
                 max_frame_size: int) -> None:
        self._timeout = timeout
        self._first = True
        self._done = False
        self._spec = w.watch_signing_keys()
        self._client = Client(socket_path, timeout=call_timeout, max_frame_size=max_frame_size)
        try:
            self._id = self._client.send(self._spec.request())
        except BaseException:
            self._client.close()
            raise

    def __iter__(self) -> "SigningKeysWatch":
        return self

    def __next__(self) -> SigningKeys:
        if self._done:
            raise StopIteration
        timeout = self._timeout
        if timeout is w.DEFAULT:
            timeout = self._client.timeout if self._first else None
        try:
            response = self._client.receive(self._id, timeout)
        except SidecarTimeoutError:
            raise  # the stream stays open: call next() again to keep waiting
        except ClientClosedError:
            closed_here = self._done
            self.close()
            if closed_here:
                raise StopIteration from None  # closed by close(), from another thread
            raise
        except BaseException:
            self.close()
            raise
        self._first = False
        try:
            return self._spec.result(response)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """End the stream (its connection closes)."""
        self._done = True
        self._client.close()

    def __enter__(self) -> "SigningKeysWatch":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
