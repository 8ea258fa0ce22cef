# The sandbox's API image: the locked Python environment and the committed contract artifacts (no Node
# needed at run time). Built by docker-compose.yml; not built or run in CI (no Docker engine there).
FROM python:3.11-slim
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never PATH=/opt/venv/bin:$PATH
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY sandbox ./sandbox
COPY api ./api
COPY seeds ./seeds
RUN uv sync --frozen --no-dev
EXPOSE 8000
# Inside the container the gateway must listen on all interfaces for the port mapping; the mapping in
# docker-compose.yml publishes it on the host's loopback only.
CMD ["sandbox", "serve", "--host", "0.0.0.0", "--port", "8000"]
