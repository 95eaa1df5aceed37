"""WatchSigningKeys: a stream on one request id that starts with the current key set, on a connection that keeps
answering other calls while the stream is open."""

from __future__ import annotations

import json
from typing import Iterator

import pytest

from sessionsidecar import Client, KeyKind, SigningKeys, pb
from support import VERIFY, create, new_user, outcome_name

WATCH_ID = 7_000_000_001


def watch_request(request_id: int = 0) -> pb.Request:
    return pb.Request(id=request_id, watch_signing_keys=pb.WatchSigningKeysRequest())


def kid_set(keys: SigningKeys) -> set:
    return {key.kid for key in keys.keys}


@pytest.fixture
def watcher(socket_path: str) -> Iterator[Client]:
    """A connection of its own for the stream (closing it ends the stream)."""
    with Client(socket_path, timeout=10.0) as connection:
        yield connection


def assert_is_key_set(keys: SigningKeys) -> None:
    if isinstance(keys, pb.GetSigningKeysResponse):  # a raw answer (send/receive): the same checks, typed
        keys = SigningKeys.from_pb(keys)
    assert keys.keys, "the key set is empty"
    assert {jwk["kid"] for jwk in json.loads(keys.jwks_json)["keys"]} == kid_set(keys)
    assert keys.cache_max_age_s >= 1
    kinds = {key.kind for key in keys.keys}
    assert KeyKind.STATIC in kinds and kinds <= {KeyKind.STATIC, KeyKind.DYNAMIC}, kinds


def test_first_item_is_the_current_set_on_the_request_id_used(
    client: Client, watcher: Client,
) -> None:
    before = client.get_signing_keys()
    assert watcher.send(watch_request(WATCH_ID)) == WATCH_ID
    response = watcher.receive(WATCH_ID, timeout=10.0)
    after = client.get_signing_keys()
    assert response.id == WATCH_ID
    assert response.status.code == pb.OK, response.status.message
    assert response.WhichOneof("result") == "watch_signing_keys"
    first = SigningKeys.from_pb(response.watch_signing_keys)
    assert_is_key_set(first)
    # Bracketed by two GetSigningKeys calls, so a rotation in between cannot make this flaky.
    assert kid_set(first) in (kid_set(before), kid_set(after))
    assert json.loads(first.jwks_json) in (json.loads(before.jwks_json), json.loads(after.jwks_json))


def test_generator_yields_the_current_set_first(client: Client, watcher: Client) -> None:
    before = client.get_signing_keys()
    stream = watcher.watch_signing_keys(timeout=10.0)
    try:
        first = next(stream)
        after = client.get_signing_keys()
        assert_is_key_set(first)
        assert kid_set(first) in (kid_set(before), kid_set(after))
    finally:
        stream.close()


def test_connection_answers_other_calls_while_the_stream_is_open(watcher: Client) -> None:
    watch_id = watcher.send(watch_request())
    first = watcher.receive(watch_id, timeout=10.0).watch_signing_keys
    assert_is_key_set(first)

    # Pipeline several calls on the same connection while the stream stays open.
    user_id = new_user()
    create_id = watcher.send(pb.Request(create_session=pb.CreateSessionRequest(user_id=user_id)))
    health_id = watcher.send(pb.Request(health=pb.HealthRequest()))
    keys_id = watcher.send(pb.Request(get_signing_keys=pb.GetSigningKeysRequest()))
    assert len({watch_id, create_id, health_id, keys_id}) == 4

    keys = watcher.receive(keys_id)
    health = watcher.receive(health_id)
    created = watcher.receive(create_id)
    for response, call in ((keys, "get_signing_keys"), (health, "health"), (created, "create_session")):
        assert response.status.code == pb.OK, (call, response.status.message)
        assert response.WhichOneof("result") == call
    assert health.health.serving is True
    assert_is_key_set(keys.get_signing_keys)

    # And plain calls keep working too.
    verified = watcher.verify_session(created.create_session.access_token.token)
    assert verified.outcome == VERIFY.OK, outcome_name(verified) + " " + verified.reason
    assert watcher.revoke_sessions(user_id=user_id).revoked_session_handles

    # Whatever is still buffered (a key change pushed meanwhile) belongs to the stream's id, to no other call:
    # the stream is the only request still awaiting answers.
    assert set(watcher._demux.pending) == {watch_id}


def test_a_second_client_is_served_while_a_stream_is_open(
    client: Client, watcher: Client,
) -> None:
    stream = watcher.watch_signing_keys(timeout=10.0)
    try:
        first = next(stream)
        created = create(client, access_token_payload={"watch": True})
        verified = client.verify_session(created.access_token.token)
        assert verified.outcome == VERIFY.OK, outcome_name(verified) + " " + verified.reason
        assert client.health().serving is True
        assert kid_set(client.get_signing_keys()) >= {key.kid for key in first.keys if key.kind == KeyKind.STATIC}
    finally:
        stream.close()


def test_two_streams_on_one_connection_each_get_the_set(watcher: Client) -> None:
    first_id = watcher.send(watch_request())
    second_id = watcher.send(watch_request())
    first = watcher.receive(first_id, timeout=10.0)
    second = watcher.receive(second_id, timeout=10.0)
    assert (first.id, second.id) == (first_id, second_id)
    assert_is_key_set(first.watch_signing_keys)
    assert_is_key_set(second.watch_signing_keys)
    assert watcher.health().serving is True


def test_closing_a_watching_connection_leaves_the_sidecar_serving(socket_path: str, client: Client) -> None:
    for _ in range(3):
        with Client(socket_path, timeout=10.0) as short_lived:
            # The iterator's own connection, closed with the client ...
            stream = short_lived.watch_signing_keys(timeout=10.0)
            assert_is_key_set(next(stream))
            # ... and a stream on the client's connection itself, closed with it.
            raw_id = short_lived.send(watch_request())
            assert_is_key_set(short_lived.receive(raw_id).watch_signing_keys)
        with pytest.raises(StopIteration):
            next(stream)
    assert client.health().serving is True
    assert client.get_signing_keys().keys
