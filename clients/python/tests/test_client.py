"""The client's own behaviour: ids, errors, context management."""

from __future__ import annotations

import pytest

from sessionsidecar import Client, SidecarStatusError, pb
from support import new_user


def test_ids_increase(client: Client) -> None:
    first = client.send(pb.Request(health=pb.HealthRequest()))
    second = client.send(pb.Request(health=pb.HealthRequest()))
    assert 0 < first < second
    assert client.receive(second).id == second
    assert client.receive(first).id == first


def test_error_carries_code_and_message(client: Client) -> None:
    with pytest.raises(SidecarStatusError) as error:
        client.get_session("00000000-0000-0000-0000-000000000000")
    assert error.value.code_name == pb.Code.Name(error.value.code)
    assert error.value.request_id > 0
    assert error.value.code_name in str(error.value)


def test_json_string_and_mapping_are_equivalent(client: Client) -> None:
    from_mapping = client.create_session(new_user(), {"a": 1}, {"b": 2})
    from_string = client.create_session(new_user(), '{"a": 1}', '{"b": 2}')
    for created in (from_mapping, from_string):
        info = client.get_session(created.session.handle)
        assert info.access_token_payload_json.replace(" ", "") == '{"a":1}'
        assert info.session_data_json.replace(" ", "") == '{"b":2}'


def test_context_manager_closes(socket_path: str) -> None:
    with Client(socket_path) as connection:
        assert connection.health().serving
    with pytest.raises(OSError):
        connection.health()
