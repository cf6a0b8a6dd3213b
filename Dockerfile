# One image for the four Python subgraphs; compose.yml picks the app with its command.
FROM python:3.11.7-slim-bookworm
ENV PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY shopkit ./shopkit
COPY subgraphs ./subgraphs
USER nobody
