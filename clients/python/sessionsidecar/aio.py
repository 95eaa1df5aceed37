"""`AsyncClient`: the asyncio client, with the same calls as `Client`, as coroutines.

One connection per client, many requests in flight on it (``asyncio.gather`` pipelines them); a reader task
hands each response to the coroutine awaiting its id. It reconnects on the next call after the connection
dropped. Use a client from one event loop (the one it first connected in).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import weakref
from typing import Any, AsyncIterator, Dict, Iterable, Optional, Union

from . import _wire as w
from .client import IN_FLIGHT, connection_lost, for_call
from .errors import (
    ClientClosedError, Code, SidecarConnectionError, SidecarError, SidecarProtocolError, SidecarTimeoutError,
)
from .types import (
    CreateSessionResult, Health, ListSessionsResult, RefreshSessionResult, RegenerateAccessTokenResult,
    RevokeSessionsResult, SessionInfo, SigningKeys, VerifySessionResult,
)
from .v1 import sidecar_pb2 as pb

_READ_SIZE = 256 * 1024


def _deadline(timeout: Optional[float]) -> Optional[float]:
    return None if timeout is None else time.monotonic() + timeout


def _remaining(deadline: Optional[float]) -> Optional[float]:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class _Slot:
    __slots__ = ("conn", "stream", "call", "queue")

    def __init__(self, conn: "_Connection", stream: bool, call: str) -> None:
        self.conn = conn
        self.stream = stream
        self.call = call
        self.queue: "asyncio.Queue[Any]" = asyncio.Queue()


class _Connection:
    """One socket, the task that reads it, and the lock that keeps frames whole on the way out."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 pending: Dict[int, _Slot], max_frame_size: int) -> None:
        self.reader = reader
        self.writer = writer
        self.pending = pending
        self.error: Optional[SidecarError] = None
        self.status: Optional[pb.Status] = None
        self._close_error: Optional[SidecarError] = None
        self._decoder = w.FrameDecoder(max_frame_size)
        self.write_lock = asyncio.Lock()
        self.task = asyncio.ensure_future(self._read_loop())

    @property
    def usable(self) -> bool:
        return self.error is None and self._close_error is None and not self.writer.transport.is_closing()

    async def _read_loop(self) -> None:
        error: SidecarError
        try:
            while True:
                chunk = await self.reader.read(_READ_SIZE)
                if not chunk:
                    raise connection_lost(self.status, "the sidecar closed the connection")
                for payload in self._decoder.feed(chunk):
                    response = w.parse_response(payload)
                    if response.id == 0:
                        if response.status.code != Code.OK:
                            self.status = response.status
                        continue
                    slot = self.pending.get(response.id)
                    if slot is not None and slot.conn is self:
                        slot.queue.put_nowait(response)
        except SidecarError as caught:
            error = caught
        except (OSError, EOFError) as caught:
            error = connection_lost(self.status, f"the connection to the sidecar broke: {caught}")
        except asyncio.CancelledError:
            error = self._close_error or ClientClosedError("the client was closed")
        except BaseException as caught:  # a bug here must not leave callers waiting
            error = SidecarProtocolError(f"the reader failed: {caught!r}")
        if self._close_error is not None:
            error = self._close_error
        self.error = error
        for slot in self.pending.values():
            if slot.conn is self:
                slot.queue.put_nowait(error)
        self.writer.close()

    def abandon(self) -> None:
        """Let go of a connection whose event loop is gone (nothing of it can be awaited any more)."""
        self.error = self.error or ClientClosedError("the connection belonged to another event loop")
        try:
            self.writer.transport.abort()
        except Exception:
            pass

    def abort(self, error: SidecarError) -> None:
        if self._close_error is None:
            self._close_error = error
        self.writer.close()  # the reader sees the end of the stream and fails the waiting calls

    async def close(self, error: SidecarError) -> None:
        self.abort(error)
        try:
            await self.task
        except BaseException:
            pass
        try:
            await self.writer.wait_closed()
        except (OSError, AttributeError):
            pass


class AsyncClient:
    """The asyncio client for the SessionSidecar; the same calls, arguments and results as `Client`.

    ``AsyncClient()`` reads the socket path from $SESSION_SIDECAR_SOCKET. It connects on first use (or on
    ``await connect()``), and again on the next call after the connection dropped. Use it as
    ``async with AsyncClient() as sidecar:`` or call ``await close()``.
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
        self._pending: Dict[int, _Slot] = {}
        self._conn: Optional[_Connection] = None
        self._connect_lock: Optional[asyncio.Lock] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._closed = False
        self._watches: "weakref.WeakSet[AsyncSigningKeysWatch]" = weakref.WeakSet()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<sessionsidecar.AsyncClient {self.socket_path!r} {state}>"

    # ------------------------------------------------------------------------------------------------------
    # Connection

    async def connect(self, timeout: Optional[float] = w.DEFAULT) -> "AsyncClient":
        """Connect now (calls connect by themselves); raises `SidecarConnectionError` when that fails."""
        await self._connection(_deadline(self._timeout(timeout)))
        return self

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Close the connection and the client's watches; calls in flight fail with `ClientClosedError`, later
        calls too."""
        if self._closed:
            return
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close(ClientClosedError("the client was closed"))
        for watch in list(self._watches):
            await watch.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _timeout(self, timeout: Optional[float]) -> Optional[float]:
        return self.timeout if timeout is w.DEFAULT else timeout

    async def _connection(self, deadline: Optional[float]) -> _Connection:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # first use, or a new event loop (asyncio.run again): start afresh in it
            self._loop = loop
            self._connect_lock = asyncio.Lock()
            stale, self._conn = self._conn, None
            if stale is not None:
                stale.abandon()
        conn = self._conn
        if conn is not None and conn.usable:
            return conn
        assert self._connect_lock is not None
        try:
            await asyncio.wait_for(self._connect_lock.acquire(), _remaining(deadline))
        except asyncio.TimeoutError:
            raise SidecarTimeoutError("timed out waiting for another task to connect") from None
        try:
            if self._closed:
                raise ClientClosedError("the client is closed")
            conn = self._conn
            if conn is None or not conn.usable:
                if conn is not None:
                    conn.abort(SidecarConnectionError("the connection to the sidecar broke"))
                try:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_unix_connection(self.socket_path), _remaining(deadline))
                except asyncio.TimeoutError:
                    raise SidecarTimeoutError(f"timed out connecting to the sidecar at {self.socket_path}") \
                        from None
                except OSError as error:
                    reason = error.strerror or str(error) or type(error).__name__
                    raise SidecarConnectionError(
                        f"cannot connect to the sidecar at {self.socket_path}: {reason}") from error
                conn = self._conn = _Connection(reader, writer, self._pending, self.max_frame_size)
                self.connections_opened += 1
            return conn
        finally:
            self._connect_lock.release()

    # ------------------------------------------------------------------------------------------------------
    # Raw requests: pipelining by hand

    async def send(self, request: pb.Request, timeout: Optional[float] = w.DEFAULT) -> int:
        """Send `request` without waiting for its answer; return its id, for `receive` (see `Client.send`)."""
        return await self._send(request, _deadline(self._timeout(timeout)))

    async def _send(self, request: pb.Request, deadline: Optional[float]) -> int:
        if request.id == 0:
            request.id = next(self._ids)
        call = request.WhichOneof("call") or ""
        frame = w.encode_request(request, self.max_frame_size)
        for _attempt in range(2):
            conn = await self._connection(deadline)
            if not conn.usable:
                continue
            if request.id in self._pending:
                raise ValueError(f"request id {request.id} is already awaiting an answer")
            slot = self._pending[request.id] = _Slot(conn, w.is_stream(request), call)
            try:
                try:
                    await asyncio.wait_for(conn.write_lock.acquire(), _remaining(deadline))
                except asyncio.TimeoutError:
                    raise SidecarTimeoutError("timed out waiting to send the request", request_id=request.id,
                                              call=call) from None
                try:
                    if not conn.usable:  # broke while this call waited: the frame never left
                        self._drop(request.id, slot)
                        continue
                    conn.writer.write(frame)  # whole, into the transport's buffer: frames never interleave
                    try:
                        await asyncio.wait_for(conn.writer.drain(), _remaining(deadline))
                    except asyncio.TimeoutError:
                        raise SidecarTimeoutError("timed out sending the request (the sidecar is not reading)",
                                                  request_id=request.id, call=call) from None
                    except (OSError, RuntimeError):
                        pass  # the connection broke after the write: the reader fails this call
                finally:
                    conn.write_lock.release()
                return request.id
            except BaseException:
                self._drop(request.id, slot)
                raise
        raise SidecarConnectionError("the connection to the sidecar broke while sending the request",
                                     request_id=request.id, call=call)

    def _drop(self, request_id: int, slot: _Slot) -> None:
        if self._pending.get(request_id) is slot:
            del self._pending[request_id]

    async def receive(self, request_id: int, timeout: Optional[float] = w.DEFAULT) -> pb.Response:
        """Wait for the answer to a request `send` sent and return the raw `Response` (see `Client.receive`)."""
        timeout = self._timeout(timeout)
        return await self._receive(request_id, _deadline(timeout), timeout)

    async def _receive(self, request_id: int, deadline: Optional[float], timeout: Optional[float]) -> pb.Response:
        slot = self._pending.get(request_id)
        if slot is None:
            raise KeyError(f"no request with id {request_id} is awaiting an answer")
        try:
            item = await asyncio.wait_for(slot.queue.get(), _remaining(deadline))
        except asyncio.TimeoutError:
            if not slot.stream:
                self._drop(request_id, slot)
            raise SidecarTimeoutError(f"no answer within {timeout:g} s", request_id=request_id,
                                      call=slot.call) from None
        except BaseException:  # cancelled: the caller gave up
            if not slot.stream:
                self._drop(request_id, slot)
            raise
        if isinstance(item, BaseException):
            self._drop(request_id, slot)
            raise for_call(item, request_id, slot.call, IN_FLIGHT if not slot.stream else "") from item
        if not slot.stream:
            self._drop(request_id, slot)
        return item

    def forget(self, request_id: int) -> None:
        """Stop waiting for a request's answers (a stream's later answers are dropped as they arrive)."""
        self._pending.pop(request_id, None)

    async def call(self, request: pb.Request, timeout: Optional[float] = w.DEFAULT) -> pb.Response:
        """`send` then `receive`, within one timeout."""
        timeout = self._timeout(timeout)
        deadline = _deadline(timeout)
        return await self._receive(await self._send(request, deadline), deadline, timeout)

    async def _invoke(self, spec: w.CallSpec, timeout: Optional[float]) -> Any:
        timeout = self._timeout(timeout)
        deadline = _deadline(timeout)
        request_id = await self._send(spec.request(), deadline)
        return spec.result(await self._receive(request_id, deadline, timeout))

    # ------------------------------------------------------------------------------------------------------
    # Sessions

    async def create_session(
        self,
        user_id: str,
        access_token_payload: w.JsonObject = None,
        session_data: w.JsonObject = None,
        *,
        enable_anti_csrf: bool = False,
        use_static_key: bool = False,
        timeout: Optional[float] = w.DEFAULT,
    ) -> CreateSessionResult:
        """See `Client.create_session`."""
        return await self._invoke(w.create_session(user_id, access_token_payload, session_data, enable_anti_csrf,
                                                   use_static_key), timeout)

    async def verify_session(
        self,
        access_token: str,
        anti_csrf_token: str = "",
        do_anti_csrf_check: bool = False,
        check_database: bool = False,
        *,
        timeout: Optional[float] = w.DEFAULT,
    ) -> VerifySessionResult:
        """See `Client.verify_session`."""
        return await self._invoke(
            w.verify_session(access_token, anti_csrf_token, do_anti_csrf_check, check_database), timeout)

    async def refresh_session(
        self, refresh_token: str, anti_csrf_token: str = "", *, timeout: Optional[float] = w.DEFAULT,
    ) -> RefreshSessionResult:
        """See `Client.refresh_session`."""
        return await self._invoke(w.refresh_session(refresh_token, anti_csrf_token), timeout)

    async def revoke_sessions(
        self,
        session_handles: Optional[Iterable[str]] = None,
        user_id: Optional[str] = None,
        *,
        timeout: Optional[float] = w.DEFAULT,
    ) -> RevokeSessionsResult:
        """See `Client.revoke_sessions`."""
        return await self._invoke(w.revoke_sessions(session_handles, user_id), timeout)

    async def list_sessions(self, user_id: str, *, timeout: Optional[float] = w.DEFAULT) -> ListSessionsResult:
        """See `Client.list_sessions`."""
        return await self._invoke(w.list_sessions(user_id), timeout)

    async def get_session(self, session_handle: str, *, timeout: Optional[float] = w.DEFAULT) -> SessionInfo:
        """See `Client.get_session`."""
        return await self._invoke(w.get_session(session_handle), timeout)

    async def update_session_data(
        self, session_handle: str, session_data: w.JsonObject, *, timeout: Optional[float] = w.DEFAULT,
    ) -> None:
        """See `Client.update_session_data`."""
        return await self._invoke(w.update_session_data(session_handle, session_data), timeout)

    async def update_access_token_payload(
        self, session_handle: str, access_token_payload: w.JsonObject, *, timeout: Optional[float] = w.DEFAULT,
    ) -> None:
        """See `Client.update_access_token_payload`."""
        return await self._invoke(w.update_access_token_payload(session_handle, access_token_payload), timeout)

    async def regenerate_access_token(
        self, access_token: str, access_token_payload: w.JsonObject = None, *,
        timeout: Optional[float] = w.DEFAULT,
    ) -> RegenerateAccessTokenResult:
        """See `Client.regenerate_access_token`."""
        return await self._invoke(w.regenerate_access_token(access_token, access_token_payload), timeout)

    # ------------------------------------------------------------------------------------------------------
    # Keys and health

    async def get_signing_keys(self, *, timeout: Optional[float] = w.DEFAULT) -> SigningKeys:
        """See `Client.get_signing_keys`."""
        return await self._invoke(w.get_signing_keys(), timeout)

    def watch_signing_keys(self, *, timeout: Optional[float] = w.DEFAULT) -> "AsyncSigningKeysWatch":
        """An async iterator over the key set (``async for keys in sidecar.watch_signing_keys():``): the current
        set first, then each new set. See `Client.watch_signing_keys`; close it with ``await aclose()`` or
        ``async with``."""
        if self._closed:
            raise ClientClosedError("the client is closed", call="watch_signing_keys")
        watch = AsyncSigningKeysWatch(self.socket_path, self.timeout, timeout, self.max_frame_size)
        self._watches.add(watch)
        return watch

    async def health(self, *, timeout: Optional[float] = w.DEFAULT) -> Health:
        """See `Client.health`."""
        return await self._invoke(w.health(), timeout)


class AsyncSigningKeysWatch(AsyncIterator[SigningKeys]):
    """The async iterator `AsyncClient.watch_signing_keys` returns: a stream on a connection of its own, opened
    by the first ``__anext__`` (or ``await start()``)."""

    def __init__(self, socket_path: str, call_timeout: Optional[float], timeout: Optional[float],
                 max_frame_size: int) -> None:
        self._timeout = timeout
        self._first = True
        self._done = False
        self._spec = w.watch_signing_keys()
        self._client = AsyncClient(socket_path, timeout=call_timeout, max_frame_size=max_frame_size)
        self._id = 0

    async def start(self) -> "AsyncSigningKeysWatch":
        """Open the stream now (the first item is then on its way)."""
        if not self._id and not self._done:
            try:
                self._id = await self._client.send(self._spec.request())
            except BaseException:
                await self.aclose()
                raise
        return self

    def __aiter__(self) -> "AsyncSigningKeysWatch":
        return self

    async def __anext__(self) -> SigningKeys:
        if self._done:
            raise StopAsyncIteration
        await self.start()
        timeout = self._timeout
        if timeout is w.DEFAULT:
            timeout = self._client.timeout if self._first else None
        try:
            response = await self._client.receive(self._id, timeout)
        except SidecarTimeoutError:
            raise  # the stream stays open
        except ClientClosedError:
            closed_here = self._done
            await self.aclose()
            if closed_here:
                raise StopAsyncIteration from None  # closed by aclose() from another task
            raise
        except BaseException:
            await self.aclose()
            raise
        self._first = False
        try:
            return self._spec.result(response)
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """End the stream (its connection closes)."""
        self._done = True
        await self._client.close()

    async def __aenter__(self) -> "AsyncSigningKeysWatch":
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
