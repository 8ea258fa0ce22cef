# The sandbox's API image: the locked Python environment and the committed contract artifacts (no Node
# needed at run time). Built by docker-compose.yml; not built or run in CI (no Docker engine there: the
# structure is checked by tests/test_deployment_files.py).
FROM python:3.11-slim
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 PATH=/opt/venv/bin:$PATH
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
# The dependency layer first, from the lock alone: a change to the sources does not reinstall it.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
# Then the project itself.
COPY README.md ./
COPY sandbox ./sandbox
COPY api ./api
COPY seeds ./seeds
RUN uv sync --frozen --no-dev
# Run as an unprivileged user; the data directory (the sandbox-data volume) is its own.
RUN useradd --system --uid 10001 --home-dir /data --no-create-home sandbox \
    && mkdir -p /data && chown sandbox:sandbox /data
USER sandbox
EXPOSE 8000
# Inside the container the gateway must listen on all interfaces for the port mapping; the mapping in
# docker-compose.yml publishes it on the host's loopback only.
CMD ["sandbox", "serve", "--host", "0.0.0.0", "--port", "8000"]
