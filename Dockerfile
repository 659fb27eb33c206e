# One image for web, workers and beat; the render worker needs Debian's chromium, which it includes.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LITELLM_LOCAL_MODEL_COST_MAP=True
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-dejavu-core nodejs npm build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY pyproject.toml ./
COPY config ./config
COPY summaries ./summaries
COPY replay_render ./replay_render
COPY patterns ./patterns
RUN pip install --no-cache-dir -e .
COPY . .
RUN RECAP_VAR_DIR=/tmp/build-var SECRET_KEY=build-only-key-not-used-at-runtime-0123456789abcdefghij \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "-b", "0.0.0.0:8000", "-w", "3", "--threads", "4"]
