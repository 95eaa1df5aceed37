"""A small client for the SessionSidecar's length-prefixed protobuf protocol over a Unix socket.

    from sessionsidecar_client import SidecarClient, pb

    with SidecarClient("/run/session-sidecar/sidecar.sock") as client:
        created = client.create_session("user-1", {"role": "admin"})
        verified = client.verify_session(created.access_token.token)
        assert verified.outcome == pb.VerifySessionResponse.OK
"""

from .client import JsonObject, SidecarClient
from .errors import SidecarError, SidecarProtocolError
from .framing import encode_frame
from .proto import pb

__all__ = ["JsonObject", "SidecarClient", "SidecarError", "SidecarProtocolError", "encode_frame", "pb"]
__version__ = "0.1.0"
