"""Reconnection: after the sidecar restarts the next call connects again; a call in flight when the connection
drops fails with SidecarConnectionError and never hangs.

The restart tests run $SESSION_SIDECAR_RESTART against the live sidecar (skipped, with the reason shown, when it
is unset). The fake-sidecar tests script a server on a socket of their own, for the cases the real one cannot be
made to show on demand.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import time
from typing import Callable, Iterator, List

import pytest

from sessionsidecar import (
    AsyncClient, Client, ClientClosedError, Code, RefreshOutcome, SidecarConnectionError, SidecarError,
    SidecarProtocolError, SidecarStatusError, VerifyOutcome, pb,
)
from aio_support import run
from support import FakeConnection, FakeSidecar, create, new_user, outcome_name


@pytest.fixture
def fake_path() -> Iterator[str]:
    """A short socket path (Unix socket paths are limited to ~100 bytes) in a directory of its own."""
    directory = tempfile.mkdtemp(prefix="ssc-")
    yield os.path.join(directory, "fake.sock")
    shutil.rmtree(directory, ignore_errors=True)


def health_answer(version: str) -> Callable[[FakeConnection], None]:
    def handler(connection: FakeConnection) -> None:
        while True:
            try:
                request = connection.read_request()
            except ConnectionError:
                return
            connection.answer(request, health=pb.HealthResponse(serving=True, version=version))

    return handler


def read_then_close(connection: FakeConnection) -> None:
    connection.read_request()  # the call is now in flight; end the connection without answering


# ---------------------------------------------------------------------------------------------------------
# The live sidecar, restarted


def test_client_reconnects_after_the_sidecar_restarts(client: Client, restart_sidecar: Callable[[], None]) -> None:
    created = create(client, access_token_payload={"before": "restart"})
    assert client.health().serving
    assert client.connections_opened == 1

    restart_sidecar()

    verified = client.verify_session(created.access_token.token)  # same keys after the restart
    assert verified.outcome is VerifyOutcome.OK, outcome_name(verified) + " " + verified.reason
    assert verified.session.access_token_payload["before"] == "restart"
    refreshed = client.refresh_session(created.refresh_token.token)  # same database
    assert refreshed.outcome is RefreshOutcome.OK, outcome_name(refreshed) + " " + refreshed.reason
    assert client.health().serving
    assert client.connections_opened == 2


def test_stream_in_flight_during_a_restart_fails_then_calls_work(
    client: Client, restart_sidecar: Callable[[], None],
) -> None:
    watch_id = client.send(pb.Request(watch_signing_keys=pb.WatchSigningKeysRequest()))
    assert client.receive(watch_id).status.code == pb.OK
    watch = client.watch_signing_keys(timeout=60)  # bounded: a missed drop fails with a timeout, not a pass
    assert next(watch).keys

    restart_sidecar()

    # A bounded wait: a client that missed the drop would raise SidecarTimeoutError here, not pass.
    with pytest.raises(SidecarConnectionError) as raw_error:
        while True:
            client.receive(watch_id, timeout=60)  # (a key change pushed before the restart is skipped)
    assert raw_error.value.code is Code.UNAVAILABLE
    assert raw_error.value.request_id == watch_id
    assert "closed the connection" in raw_error.value.message
    # The sidecar ends a stream with UNAVAILABLE "shutting down" on its id when it gets to, else the connection
    # just closes: either way the iterator raises, with code UNAVAILABLE.
    with pytest.raises((SidecarConnectionError, SidecarStatusError)) as watch_error:
        while True:
            next(watch)
    assert watch_error.value.code is Code.UNAVAILABLE
    with pytest.raises(StopIteration):
        next(watch)

    assert client.health().serving
    assert client.connections_opened == 2
    with client.watch_signing_keys() as again:
        assert next(again).keys


def test_threads_calling_through_a_restart_never_hang(client: Client, restart_sidecar: Callable[[], None]) -> None:
    token = create(client).access_token.token
    stop = threading.Event()
    outcomes: List[object] = []
    lock = threading.Lock()

    def keep_calling() -> None:
        while not stop.is_set():
            try:
                result: object = client.verify_session(token, timeout=60).outcome
            except SidecarError as error:
                result = error
                time.sleep(0.02)
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=keep_calling) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        restart_sidecar()
        stop_after = len(outcomes) + 40
        deadline = time.monotonic() + 60
        while len(outcomes) < stop_after and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(90)
    assert not any(thread.is_alive() for thread in threads), "a call hung through the restart"
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert all(isinstance(error, SidecarConnectionError) for error in errors), errors[:3]
    assert outcomes[-1] is VerifyOutcome.OK  # calling again after the restart worked
    assert set(outcomes) - set(errors) == {VerifyOutcome.OK}
    assert client.verify_session(token).outcome is VerifyOutcome.OK


def test_async_client_reconnects_after_the_sidecar_restarts(
    socket_path: str, restart_sidecar: Callable[[], None],
) -> None:
    async def scenario() -> None:
        async with AsyncClient(socket_path) as sidecar:
            created = await sidecar.create_session(new_user(), {"before": "restart"})
            watch = sidecar.watch_signing_keys(timeout=60)  # bounded: a missed drop fails with a timeout
            assert (await watch.__anext__()).keys

            await asyncio.get_running_loop().run_in_executor(None, restart_sidecar)

            with pytest.raises((SidecarConnectionError, SidecarStatusError)) as watch_error:
                while True:
                    await watch.__anext__()
            assert watch_error.value.code is Code.UNAVAILABLE
            with pytest.raises(StopAsyncIteration):
                await watch.__anext__()
            verified = await sidecar.verify_session(created.access_token.token)
            assert verified.outcome is VerifyOutcome.OK, outcome_name(verified)
            refreshed = await sidecar.refresh_session(created.refresh_token.token)
            assert refreshed.outcome is RefreshOutcome.OK, outcome_name(refreshed)
            assert sidecar.connections_opened == 2
            async for keys in sidecar.watch_signing_keys():
                assert keys.keys
                break

    run(scenario())


# ---------------------------------------------------------------------------------------------------------
# A scripted fake sidecar


def test_call_in_flight_when_the_connection_drops_fails_then_the_next_call_reconnects(fake_path: str) -> None:
    with FakeSidecar(fake_path, [read_then_close, health_answer("second")]) as fake:
        with Client(fake_path, timeout=30) as client:
            with pytest.raises(SidecarConnectionError) as error:
                client.health()
            assert error.value.code is Code.UNAVAILABLE
            assert error.value.call == "health" and error.value.request_id == 1
            assert "in flight" in str(error.value) and "may or may not" in str(error.value)
            assert client.health().version == "second"
            assert client.connections_opened == 2
        assert fake.connections == 2


def test_async_call_in_flight_when_the_connection_drops_fails_then_the_next_call_reconnects(fake_path: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(fake_path, timeout=30) as client:
            with pytest.raises(SidecarConnectionError) as error:
                await client.health()
            assert error.value.code is Code.UNAVAILABLE
            assert "in flight" in str(error.value)
            assert (await client.health()).version == "second"
            assert client.connections_opened == 2

    with FakeSidecar(fake_path, [read_then_close, health_answer("second")]):
        run(scenario())


def test_every_call_in_flight_fails_when_the_connection_drops(fake_path: str) -> None:
    received = threading.Event()

    def read_three_then_close(connection: FakeConnection) -> None:
        for _ in range(3):
            connection.read_request()
        received.set()

    with FakeSidecar(fake_path, [read_three_then_close]):
        with Client(fake_path, timeout=30) as client:
            errors: List[BaseException] = []

            def call() -> None:
                try:
                    client.health()
                except BaseException as error:
                    errors.append(error)

            threads = [threading.Thread(target=call) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            assert received.is_set()
            assert len(errors) == 3 and all(isinstance(error, SidecarConnectionError) for error in errors), errors
            assert sorted(error.request_id for error in errors) == [1, 2, 3]


def test_connection_level_status_before_the_close_is_reported(fake_path: str) -> None:
    def refuse(connection: FakeConnection) -> None:
        connection.read_request()
        connection.write(pb.Response(id=0, status=pb.Status(code=pb.RESOURCE_EXHAUSTED, message="frame too big")))

    with FakeSidecar(fake_path, [refuse]):
        with Client(fake_path, timeout=30) as client:
            with pytest.raises(SidecarConnectionError) as error:
                client.health()
            assert error.value.code is Code.RESOURCE_EXHAUSTED
            assert "frame too big" in error.value.message


def test_unparsable_answer_is_a_protocol_error_and_the_client_reconnects(fake_path: str) -> None:
    def garbage(connection: FakeConnection) -> None:
        connection.read_request()
        connection.sock.sendall(b"\x00\x00\x00\x04\xff\xff\xff\xff")
        connection.wait_for_hang_up()

    with FakeSidecar(fake_path, [garbage, health_answer("ok")]):
        with Client(fake_path, timeout=30) as client:
            with pytest.raises(SidecarProtocolError) as error:
                client.health()
            assert error.value.code is Code.INTERNAL
            assert client.health().version == "ok"
            assert client.connections_opened == 2


def test_wrong_result_kind_or_unknown_outcome_is_a_protocol_error(fake_path: str) -> None:
    def odd_answers(connection: FakeConnection) -> None:
        request = connection.read_request()
        connection.answer(request, get_signing_keys=pb.GetSigningKeysResponse())  # not a health result
        request = connection.read_request()
        connection.answer(request, verify_session=pb.VerifySessionResponse())  # outcome left unset (0)
        request = connection.read_request()
        connection.answer(request, health=pb.HealthResponse(serving=True, version="still-here"))

    with FakeSidecar(fake_path, [odd_answers]):
        with Client(fake_path, timeout=30) as client:
            with pytest.raises(SidecarProtocolError, match="get_signing_keys"):
                client.health()
            with pytest.raises(SidecarProtocolError, match="outcome 0"):
                client.verify_session("token")
            assert client.health().version == "still-here"
            assert client.connections_opened == 1


def test_closing_the_client_ends_calls_in_flight_and_its_watches(client: Client) -> None:
    watch_id = client.send(pb.Request(watch_signing_keys=pb.WatchSigningKeysRequest()))
    client.receive(watch_id)
    watch = client.watch_signing_keys()
    first = next(watch)
    seen = []
    raised: List[BaseException] = []

    def wait_raw() -> None:
        try:
            while True:
                client.receive(watch_id, timeout=60)
        except BaseException as error:
            raised.append(error)

    def iterate() -> None:
        seen.extend(watch)  # ends (StopIteration) when the client closes the watch

    threads = [threading.Thread(target=wait_raw), threading.Thread(target=iterate)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)  # let both threads start waiting (if they have not yet, they see the closed state instead)
    client.close()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert len(raised) == 1 and isinstance(raised[0], ClientClosedError), raised
    assert all(keys.keys for keys in seen) and first.keys
    with pytest.raises(ClientClosedError):
        client.health()
    with pytest.raises(ClientClosedError):
        client.watch_signing_keys()
