"""Many requests in flight on one connection: threads sharing a Client, asyncio.gather on an AsyncClient."""

from __future__ import annotations

import asyncio
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, List, Tuple

from sessionsidecar import AsyncClient, Client, CreateSessionResult, VerifyOutcome, pb
from aio_support import run
from support import create, new_user

TOTAL = 1000
SESSIONS = 20


def _sessions(client: Client) -> List[CreateSessionResult]:
    return [create(client, access_token_payload={"i": index}) for index in range(SESSIONS)]


def _check(number: int, sessions: List[CreateSessionResult], result: Any) -> None:
    """Call `number` asked about session number % SESSIONS: its answer must be about that session."""
    expected = sessions[number % SESSIONS]
    if number % 25 == 0:  # a GetSession, answered when MySQL answers: out of order with the verifies
        assert result.session_handle == expected.session.handle, number
        assert result.user_id == expected.session.user_id, number
    else:
        assert result.outcome is VerifyOutcome.OK, (number, result.reason)
        assert result.session.handle == expected.session.handle, number
        assert result.session.access_token_payload["i"] == number % SESSIONS, number


def test_thousand_calls_from_threads_share_one_connection(client: Client) -> None:
    sessions = _sessions(client)
    opened = client.connections_opened

    def one_call(number: int) -> Tuple[int, Any]:
        session = sessions[number % SESSIONS]
        if number % 25 == 0:
            return number, client.get_session(session.session.handle)
        return number, client.verify_session(session.access_token.token)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one_call, range(TOTAL)))
    assert [number for number, _ in results] == list(range(TOTAL))
    for number, result in results:
        _check(number, sessions, result)
    assert client.connections_opened == opened == 1


def test_thousand_raw_requests_in_flight_are_matched_by_id(client: Client) -> None:
    sessions = _sessions(client)
    sent: List[Tuple[int, int]] = []
    for number in range(TOTAL):
        session = sessions[number % SESSIONS]
        if number % 25 == 0:
            request = pb.Request(get_session=pb.GetSessionRequest(session_handle=session.session.handle))
        else:
            request = pb.Request(verify_session=pb.VerifySessionRequest(access_token=session.access_token.token))
        sent.append((client.send(request), number))
    ids = [request_id for request_id, _ in sent]
    assert len(set(ids)) == TOTAL
    # Every request is on the wire before any answer is taken; collect them from 8 threads in a random order.
    random.shuffle(sent)
    answers: List[Tuple[int, int, pb.Response]] = []
    lock = threading.Lock()

    def collect(share: List[Tuple[int, int]]) -> None:
        for request_id, number in share:
            response = client.receive(request_id)
            with lock:
                answers.append((request_id, number, response))

    threads = [threading.Thread(target=collect, args=(sent[index::8],)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert len(answers) == TOTAL
    for request_id, number, response in answers:
        assert response.id == request_id
        assert response.status.code == pb.OK, response.status.message
        session = sessions[number % SESSIONS]
        if number % 25 == 0:
            assert response.get_session.session_handle == session.session.handle
        else:
            assert response.verify_session.session.handle == session.session.handle
            assert f'"i":{number % SESSIONS}' in response.verify_session.session.access_token_payload_json
    assert client._demux.pending == {}
    assert client.connections_opened == 1


def test_thousand_gathered_calls_on_one_async_connection(socket_path: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(socket_path) as sidecar:
            sessions = [await sidecar.create_session(new_user(), {"i": index}) for index in range(SESSIONS)]

            def one_call(number: int) -> Any:
                session = sessions[number % SESSIONS]
                if number % 25 == 0:
                    return sidecar.get_session(session.session.handle)
                return sidecar.verify_session(session.access_token.token)

            results = await asyncio.gather(*(one_call(number) for number in range(TOTAL)))
            assert len(results) == TOTAL
            for number, result in enumerate(results):
                _check(number, sessions, result)

            # The same by hand: every request sent, then every answer awaited at once, matched by id.
            requests = [
                pb.Request(verify_session=pb.VerifySessionRequest(
                    access_token=sessions[number % SESSIONS].access_token.token))
                for number in range(TOTAL)
            ]
            ids = [await sidecar.send(request) for request in requests]
            assert len(set(ids)) == TOTAL
            order = list(range(TOTAL))
            random.shuffle(order)
            responses = await asyncio.gather(*(sidecar.receive(ids[number]) for number in order))
            for number, response in zip(order, responses):
                assert response.id == ids[number]
                assert response.verify_session.session.handle == sessions[number % SESSIONS].session.handle
            assert sidecar._pending == {}
            assert sidecar.connections_opened == 1

    run(scenario())
