"""Errors carry the wire code (name and number) and message; timeouts per client and per call; the socket path
from the argument or $SESSION_SIDECAR_SOCKET; both clients offer one method per call of the contract."""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import shutil
import tempfile
import threading
from typing import Iterator

import pytest

from sessionsidecar import (
    AsyncClient, Client, ClientClosedError, Code, RequestTooLargeError, SidecarConnectionError, SidecarError, SidecarStatusError,
    SidecarTimeoutError, pb,
)
from aio_support import run
from support import FakeConnection, FakeSidecar, create, new_user


@pytest.fixture
def fake_path() -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="ssc-")
    yield os.path.join(directory, "fake.sock")
    shutil.rmtree(directory, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------
# Wire statuses


def _assert_invalid_user_id(error: SidecarStatusError) -> None:
    assert error.code is Code.INVALID_ARGUMENT
    assert error.code_name == "INVALID_ARGUMENT" and error.code_number == 3
    assert error.message and "user_id" in error.message
    assert error.call == "create_session" and error.request_id > 0
    assert "INVALID_ARGUMENT (3)" in str(error) and error.message in str(error)
    assert isinstance(error, SidecarError)


def test_empty_user_id_is_invalid_argument_with_code_and_message(client: Client) -> None:
    with pytest.raises(SidecarStatusError) as error:
        client.create_session("")
    _assert_invalid_user_id(error.value)
    assert client.health().serving  # the connection carries on
    assert client.connections_opened == 1


def test_async_empty_user_id_is_invalid_argument_with_code_and_message(socket_path: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(socket_path) as sidecar:
            with pytest.raises(SidecarStatusError) as error:
                await sidecar.create_session("")
            _assert_invalid_user_id(error.value)
            assert (await sidecar.health()).serving

    run(scenario())


def test_not_found_and_unauthenticated_codes(client: Client) -> None:
    with pytest.raises(SidecarStatusError) as error:
        client.update_session_data("00000000-0000-0000-0000-000000000000", {"v": 1})
    assert error.value.code is Code.NOT_FOUND and error.value.call == "update_session_data"
    with pytest.raises(SidecarStatusError) as error:
        client.regenerate_access_token("not-a-jwt")
    assert error.value.code is Code.UNAUTHENTICATED


def test_revoke_without_a_target_is_refused_before_sending(client: Client) -> None:
    with pytest.raises(ValueError):
        client.revoke_sessions()
    with pytest.raises(TypeError):
        client.revoke_sessions(session_handles="one-handle-not-a-list")
    with pytest.raises(TypeError):
        client.create_session(new_user(), [("role", "admin")])  # a JSON object is a mapping or a string
    assert client.connections_opened == 0


def test_oversized_request_is_refused_before_sending(client: Client) -> None:
    assert client.health().serving
    with pytest.raises(RequestTooLargeError) as error:
        client.create_session("x" * (4 * 1024 * 1024 + 1))
    assert isinstance(error.value, ValueError)
    assert error.value.code is Code.RESOURCE_EXHAUSTED
    assert client.health().serving
    assert client.connections_opened == 1


def test_missing_socket_is_a_connection_error(fake_path: str) -> None:
    with Client(fake_path) as client:
        with pytest.raises(SidecarConnectionError) as error:
            client.health()
    assert isinstance(error.value, ConnectionError)
    assert error.value.code is Code.UNAVAILABLE
    assert fake_path in error.value.message and "cannot connect" in error.value.message

    async def scenario() -> None:
        async with AsyncClient(fake_path) as sidecar:
            with pytest.raises(SidecarConnectionError) as async_error:
                await sidecar.health()
            assert fake_path in async_error.value.message

    run(scenario())


# ---------------------------------------------------------------------------------------------------------
# The socket path


def test_socket_path_from_the_environment(socket_path: str, fake_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSION_SIDECAR_SOCKET", socket_path)
    with Client() as client:
        assert client.socket_path == socket_path
        assert client.health().serving

    async def scenario() -> None:
        async with AsyncClient() as sidecar:
            assert (await sidecar.health()).serving

    run(scenario())

    monkeypatch.setenv("SESSION_SIDECAR_SOCKET", fake_path)  # nothing listens there
    with Client(socket_path) as client:  # the argument wins over the environment
        assert client.health().serving

    monkeypatch.delenv("SESSION_SIDECAR_SOCKET")
    with pytest.raises(ValueError, match="SESSION_SIDECAR_SOCKET"):
        Client()
    with pytest.raises(ValueError, match="SESSION_SIDECAR_SOCKET"):
        AsyncClient()


# ---------------------------------------------------------------------------------------------------------
# Timeouts


def test_timeout_on_a_silent_stream_keeps_the_connection(client: Client) -> None:
    """A watch stream answers once, then only when keys change: a short wait for its next item times out."""
    watch_id = client.send(pb.Request(watch_signing_keys=pb.WatchSigningKeysRequest()))
    assert client.receive(watch_id).status.code == pb.OK
    with pytest.raises(SidecarTimeoutError) as error:
        for _ in range(5):  # a key change may arrive meanwhile; five in a row cannot
            client.receive(watch_id, timeout=0.2)
    assert isinstance(error.value, TimeoutError)
    assert error.value.code is Code.DEADLINE_EXCEEDED and error.value.request_id == watch_id
    assert client.health().serving  # same connection, still in order
    assert client.connections_opened == 1
    assert watch_id in client._demux.pending  # a stream outlives a timeout

    with client.watch_signing_keys(timeout=10) as watch:
        assert next(watch).keys
        watch._timeout = 0.2
        with pytest.raises(SidecarTimeoutError):
            for _ in range(5):
                next(watch)


def _silent_then_answering(first_seen: threading.Event):
    def handler(connection: FakeConnection) -> None:
        late = connection.read_request()  # never answered in time
        first_seen.set()
        second = connection.read_request()
        connection.answer(second, health=pb.HealthResponse(serving=True, version="second"))
        connection.answer(late, health=pb.HealthResponse(serving=True, version="late"))
        third = connection.read_request()
        connection.answer(third, health=pb.HealthResponse(serving=True, version="third"))
        connection.wait_for_hang_up()

    return handler


def test_timeout_then_late_answer_is_dropped(fake_path: str) -> None:
    seen = threading.Event()
    with FakeSidecar(fake_path, [_silent_then_answering(seen)]):
        with Client(fake_path, timeout=30) as client:
            with pytest.raises(SidecarTimeoutError) as error:
                client.health(timeout=0.2)  # per call, shorter than the client's
            assert error.value.code is Code.DEADLINE_EXCEEDED and error.value.call == "health"
            assert "0.2 s" in str(error.value)
            assert seen.is_set()
            assert client.health().version == "second"  # not the late answer to the first call
            assert client.health().version == "third"
            assert client.connections_opened == 1
            assert client._demux.pending == {}


def test_client_default_timeout_and_per_call_override(fake_path: str) -> None:
    release = threading.Event()

    def handler(connection: FakeConnection) -> None:
        connection.read_request()  # never answered
        second = connection.read_request()
        release.wait(30)
        connection.answer(second, health=pb.HealthResponse(serving=True, version="patient"))
        connection.wait_for_hang_up()

    with FakeSidecar(fake_path, [handler]):
        with Client(fake_path, timeout=0.2) as client:
            with pytest.raises(SidecarTimeoutError):
                client.health()  # the client's default
            timer = threading.Timer(0.5, release.set)  # answers after the default would have expired
            timer.start()
            try:
                assert client.health(timeout=30).version == "patient"
            finally:
                timer.cancel()


def test_async_timeout_then_late_answer_is_dropped(fake_path: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(fake_path, timeout=30) as client:
            with pytest.raises(SidecarTimeoutError) as error:
                await client.health(timeout=0.2)
            assert error.value.code is Code.DEADLINE_EXCEEDED
            assert (await client.health()).version == "second"
            assert (await client.health()).version == "third"
            assert client.connections_opened == 1
            assert client._pending == {}

    seen = threading.Event()
    with FakeSidecar(fake_path, [_silent_then_answering(seen)]):
        run(scenario())


# ---------------------------------------------------------------------------------------------------------
# The API's shape


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_one_method_per_call_of_the_contract_on_both_clients() -> None:
    calls = {_snake(method.name) for method in pb.DESCRIPTOR.services_by_name["SessionSidecar"].methods}
    assert len(calls) == 12
    for name in calls:
        sync_method = getattr(Client, name)
        async_method = getattr(AsyncClient, name)
        sync_parameters = inspect.signature(sync_method).parameters
        assert list(sync_parameters) == list(inspect.signature(async_method).parameters), name
        assert "timeout" in sync_parameters, name
        assert sync_parameters["timeout"].kind is inspect.Parameter.KEYWORD_ONLY, name
        if name == "watch_signing_keys":
            assert not inspect.iscoroutinefunction(async_method)  # it returns an async iterator
        else:
            assert inspect.iscoroutinefunction(async_method), name
            assert not inspect.iscoroutinefunction(sync_method), name


def test_code_enum_matches_the_contract() -> None:
    assert {code.name: code.value for code in Code} == dict(pb.Code.items())


def test_watch_iterators(client: Client, socket_path: str) -> None:
    current = client.get_signing_keys()
    with client.watch_signing_keys() as watch:
        assert iter(watch) is watch
        first = next(watch)
    assert {key.kid for key in first.keys} >= {key.kid for key in current.keys if key.kind.name == "STATIC"}

    async def scenario() -> None:
        async with AsyncClient(socket_path) as sidecar:
            before = await sidecar.get_signing_keys()
            items = []
            async with sidecar.watch_signing_keys() as stream:
                async for keys in stream:
                    items.append(keys)
                    break
            after = await sidecar.get_signing_keys()
            assert len(items) == 1
            kids = {key.kid for key in items[0].keys}
            assert kids in ({key.kid for key in before.keys}, {key.kid for key in after.keys})
            assert {jwk["kid"] for jwk in items[0].jwks["keys"]} == kids
            assert items[0].cache_max_age_s >= 1

    run(scenario())
    assert create(client).session.handle


def test_async_client_moves_to_a_new_event_loop(socket_path: str) -> None:
    sidecar = AsyncClient(socket_path)
    assert asyncio.run(sidecar.health()).serving
    assert asyncio.run(sidecar.health()).serving  # a second asyncio.run: a new loop, so a new connection
    assert sidecar.connections_opened == 2
    asyncio.run(sidecar.close())
    with pytest.raises(ClientClosedError):
        asyncio.run(sidecar.health())
