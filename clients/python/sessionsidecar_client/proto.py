"""Access to the protoc-generated messages (``generated/`` is produced by scripts/generate-proto.sh).

Import the messages as ``from sessionsidecar_client import pb`` and use ``pb.Request``, ``pb.Code`` and so on.
"""

from .generated.sessionsidecar.v1 import sidecar_pb2 as pb

__all__ = ["pb"]
