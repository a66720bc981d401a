FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY contestbell contestbell
COPY models models
COPY fetchers fetchers
COPY scheduler scheduler
COPY notify notify
COPY bot bot
COPY web web
COPY locales locales
RUN pip install --no-cache-dir --no-deps -e . && python -m notify.i18n
USER nobody
CMD ["contestbell", "web"]
