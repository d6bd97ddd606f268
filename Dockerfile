# One image for Sensr's four services. compose.yaml picks the service with its `command`:
#   python -m ingest_http | python -m ingest_ftp | python -m catalog_worker | python -m api
# Settings come from SENSR_... environment variables (sensr/settings.py, the README's table).
#
#   docker build -t sensr .
#   docker run --rm -e SENSR_KAFKA_BOOTSTRAP=... sensr python -m ingest_http

# Stage 1: build Sensr's own wheel (source tree stays out of the final image).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY sensr/ sensr/
COPY launcher/ launcher/
COPY infra/ infra/
COPY ingest_http/ ingest_http/
COPY ingest_ftp/ ingest_ftp/
COPY catalog_worker/ catalog_worker/
COPY api/ api/
COPY activity_worker/ activity_worker/
COPY notifier/ notifier/
COPY clip_worker/ clip_worker/
RUN pip wheel --no-deps --wheel-dir /wheels .

# Stage 2: the runtime image: the wheel and its pinned dependencies (binary wheels from
# PyPI, so no compiler is needed), a non-root user, and /data for local state.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SENSR_DATA_DIR=/data \
    SENSR_LOG_FORMAT=json
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels \
 && groupadd --system --gid 10001 sensr \
 && useradd --system --uid 10001 --gid sensr --home-dir /data --no-create-home --shell /usr/sbin/nologin sensr \
 && mkdir -p /data && chown sensr:sensr /data
# A named volume mounted on /data starts as a copy of this folder, so it is owned by `sensr`
# (no VOLUME here: one-shot containers of this image should not leave anonymous volumes).
WORKDIR /data
USER sensr:sensr
# Documentation only: api, ingest_http, ingest_ftp (control, ops), catalog_worker ops.
EXPOSE 8000 8080 2121 8021 8091
CMD ["sensr", "--help"]
