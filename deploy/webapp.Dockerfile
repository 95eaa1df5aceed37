# syntax=docker/dockerfile:1
# The example web application of deploy/compose.yaml: the Python client (clients/python) and its example app.
# Build from the repository root: docker build -f deploy/webapp.Dockerfile -t session-sidecar-webapp:dev .
# BuildKit reads deploy/webapp.Dockerfile.dockerignore beside this file.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY clients/python ./clients/python
# The client's only dependency is protobuf (clients/python/pyproject.toml pins its range).
RUN pip install --no-cache-dir ./clients/python
# The app runs as uid 10002 and joins group 10001 (session-sidecar), the group of the sidecar's 0660 socket.
RUN groupadd --system --gid 10001 session-sidecar \
 && useradd --system --uid 10002 --gid session-sidecar --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin webapp
USER 10002:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["python", "clients/python/examples/webapp.py", "--port", "8080", "--socket", "/run/session-sidecar/sidecar.sock"]
