# Production image: one image for web, worker and beat (docker-compose.yml picks the command).
FROM node:20-bookworm-slim AS frontend
WORKDIR /app/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    LITELLM_LOCAL_MODEL_COST_MAP=True \
    DJANGO_SETTINGS_MODULE=backend.config.settings.production \
    BATON_VAR_DIR=/var/lib/baton
WORKDIR /app
COPY requirements/base.lock requirements/base.lock
RUN pip install --no-cache-dir uv==0.13.8 \
 && uv pip install --system --no-cache --compile-bytecode -r requirements/base.lock
COPY manage.py pyproject.toml ./
COPY orchestrator_core/ orchestrator_core/
COPY backend/ backend/
COPY fixtures/ fixtures/
COPY --from=frontend /app/frontend/dist frontend/dist
RUN useradd --system --home /var/lib/baton baton && mkdir -p /var/lib/baton && chown baton /var/lib/baton
USER baton
EXPOSE 8000
CMD ["uvicorn", "backend.config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
