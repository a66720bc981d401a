# The contestbell image: one image for every process kind (web, worker, scheduler, migrate; see docker-compose.yml).
# Production dependencies only (requirements-prod.lock: the lock without the test tools), a non-root user, and a
# writable data directory at /data.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    CONTESTBELL_HTTP_HOST=0.0.0.0 \
    CONTESTBELL_HTTP_PORT=8080 \
    CONTESTBELL_DATA_DIR=/data \
    CONTESTBELL_DATABASE_URL=sqlite:///data/contestbell.sqlite3

RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin contestbell \
    && install -d -o contestbell -g contestbell -m 0750 /data

WORKDIR /app
COPY requirements-prod.lock ./
RUN pip install --require-hashes -r requirements-prod.lock

COPY pyproject.toml README.md ./
COPY contestbell contestbell
COPY models models
COPY fetchers fetchers
COPY scheduler scheduler
COPY notify notify
COPY bot bot
COPY web web
COPY locales locales
# the package itself (its dependencies are all above), and the message catalogs compiled once, as root
RUN pip install --no-deps -e . && python -m notify.i18n

USER contestbell
VOLUME ["/data"]
EXPOSE 8080
# the web process's own /healthz; docker-compose.yml gives worker and scheduler their own check
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "contestbell.healthcheck", "web"]
CMD ["contestbell", "web"]
