# One image for the four Python subgraphs; compose.yml picks the app with each service's
# command. The build context is filtered by .dockerignore: only what is copied below.
FROM python:3.11.7-slim-bookworm
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --no-cache
# The kit, and the subgraphs with their event schemas (consumers check events against them).
COPY shopkit ./shopkit
COPY subgraphs ./subgraphs
EXPOSE 4001 4002 4003 4004
# Nothing in /app is writable: production keeps its data in the engines.
USER nobody
