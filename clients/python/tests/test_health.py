"""Health: the sidecar serves, names its version and reaches its database."""

from sessionsidecar_client import SidecarClient


def test_health_reports_serving_version_and_database(client: SidecarClient) -> None:
    health = client.health()
    assert health.serving is True
    assert health.version != ""
    assert health.database_reachable is True
