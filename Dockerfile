# techmatch service image: CPU-only torch, the packaged default model, the demo catalogue.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TECHMATCH_DATABASE_URL=sqlite:////srv/techmatch/var/techmatch.db \
    TECHMATCH_DATA_DIR=/srv/techmatch/var \
    TECHMATCH_DEMO_DIR=/srv/techmatch/data/demo

WORKDIR /srv/techmatch

# CPU wheel of torch first, so sentence-transformers does not pull the CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY pyproject.toml README.md ./
COPY app ./app
COPY matching ./matching
RUN pip install .

COPY data ./data
# Schema migrations: `techmatch serve` upgrades the embedded SQLite database; `techmatch db upgrade` a server one.
COPY alembic.ini ./
COPY alembic ./alembic

RUN useradd --system --home /srv/techmatch techmatch \
    && mkdir -p /srv/techmatch/var && chown -R techmatch /srv/techmatch/var
USER techmatch
VOLUME ["/srv/techmatch/var"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"

CMD ["techmatch", "serve", "--host", "0.0.0.0", "--port", "8000"]
