"""Health: the sidecar serves, names its version and reaches its database."""

from sessionsidecar import Client


def test_health_reports_serving_version_and_database(client: Client) -> None:
    health = client.health()
    assert health.serving is True
    assert health.version != ""
    assert health.database_reachable is True
