# customer-management: API server and projection worker (see docker-compose.yml)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CUSTOMERS_DATA_DIR=/data

WORKDIR /app
COPY . .
# /data: the app's data dir (master.key etc.), writable by the app user;
# docker-compose.yml mounts one volume there for both api and worker
# fonts-dejavu-core: the Unicode font invoice PDFs embed (else Latin-1 Helvetica only)
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && pip install . \
    && useradd --create-home --uid 10001 customers \
    && mkdir -p /data && chown customers: /data

USER customers
VOLUME ["/data"]
EXPOSE 8000
# the package's console script `customers`
CMD ["customers", "serve", "--host", "0.0.0.0", "--port", "8000"]
