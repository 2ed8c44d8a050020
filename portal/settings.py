"""Settings, read from the environment with safe defaults (every variable: docs/operations.md)."""

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    """Read a strict boolean: only true/false (any case), 1/0, yes/no are accepted."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"true", "1", "yes"}:
        return True
    if value in {"false", "0", "no"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The fallback key is for `make run` and tests only; `manage.py check --deploy` flags it, and
# the README tells operators to set SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY") or "django-insecure-dev-portal-key-0123456789abcdefghij"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", PUBLIC_BASE_URL)

# Roleplay contract (seed 000): the default HS256 secret of partners' launch tokens; a partner
# may have its own. A short secret makes HS256 guessable, so it is refused at start-up.
Q3_INTEGRATION_SECRET = os.environ.get("Q3_INTEGRATION_SECRET", "")
MIN_JWT_SECRET_BYTES = 32
if Q3_INTEGRATION_SECRET and len(Q3_INTEGRATION_SECRET.encode()) < MIN_JWT_SECRET_BYTES:
    raise ImproperlyConfigured(
        f"Q3_INTEGRATION_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes long"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "huey.contrib.djhuey",
    "ninja",
    "integrations",
    "portal.customers",
    "portal.exams",
    "portal.sandbox",
    "portal.partners",
    "portal.roleplays",
    "portal.scorecards",
    "portal.audit",
    "portal.staff",
    "portal.housekeeping",
]

# The request id first, so every log line of a request carries it; the security headers above
# WhiteNoise, so static files get them too (see docs/security.md).
MIDDLEWARE = [
    "portal.middleware.RequestIdMiddleware",
    "portal.logs.RequestLogMiddleware",
    "portal.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.SecurityHeadersMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.RateLimitHeadersMiddleware",
    # Bad input (control characters, a body over DATA_UPLOAD_MAX_MEMORY_SIZE) is refused before
    # the session middleware or any view reads it (docs/security.md, "Bad input").
    "portal.middleware.BadInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.ScorecardCookieMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite in WAL mode by default (many concurrent writers: IMMEDIATE transactions so
# a writer takes the lock up front instead of failing mid-transaction, and a busy timeout so
# it waits rather than erroring); PostgreSQL when DATABASE_URL says so.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# How long (seconds) a thread keeps its database connection between requests; 0 closes it after
# each request. Each gunicorn thread and consumer worker holds at most one (docs/operations.md,
# "Connection budget").
DB_CONN_MAX_AGE = int(os.environ.get("DB_CONN_MAX_AGE", "600"))
# PostgreSQL only: a pool per process (psycopg's) of at most this many connections, shared by its
# threads, instead of one persistent connection per thread. Unset: no pool.
DB_POOL_MAX_SIZE = int(os.environ.get("DB_POOL_MAX_SIZE", "0"))
# PostgreSQL only: a statement waits at most this long (seconds) for a lock (a table being
# altered or locked by hand, a row another transaction writes), then fails, and its request
# answers 503 with Retry-After: a long lock must not hold every web thread (WEB_TIMEOUT) and the
# workers with it. Migrations too: a deploy's ALTER TABLE queued behind a long transaction would
# block every query after it; it fails instead, to be run again (docs/operations.md). 0 leaves
# PostgreSQL's own setting (by default: wait for ever).
DB_LOCK_TIMEOUT = float(os.environ.get("DB_LOCK_TIMEOUT", "5"))
# The settings dicts hold values of several kinds: typed as django-stubs types Django's own.
DATABASES: dict[str, dict[str, Any]]
if DATABASE_URL:
    DATABASES = {"default": dict(dj_database_url.parse(DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE))}
    if DB_LOCK_TIMEOUT and "postgresql" in DATABASES["default"]["ENGINE"]:
        # Set as the connection starts (libpq's options), so every connection has it, each
        # of a pool's included (Django opens those with the same parameters), with no statement
        # more per request; options the URL gives are kept.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        lock_timeout = f"-c lock_timeout={round(DB_LOCK_TIMEOUT * 1000)}"
        options["options"] = f"{options.get('options', '')} {lock_timeout}".strip()
    if DB_POOL_MAX_SIZE:
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them instead
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(int(os.environ.get("DB_POOL_MIN_SIZE", "1")), DB_POOL_MAX_SIZE),
            "max_size": DB_POOL_MAX_SIZE,
            # A request waits this long for a free connection, then fails (503, Retry-After).
            "timeout": float(os.environ.get("DB_POOL_TIMEOUT", "10")),
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            # Django's SQLite backend, waiting for the write lock in short steps (portal/sqlite).
            "ENGINE": "portal.sqlite",
            # SQLITE_PATH lets another process (e.g. a test's Huey consumer) open a given file.
            "NAME": os.environ.get("SQLITE_PATH") or VAR_DIR / "portal.sqlite3",
            "CONN_MAX_AGE": DB_CONN_MAX_AGE,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                # A writer waits this long (seconds) for the write lock, then fails.
                "timeout": 20,
                # WAL with commits that don't flush the disk; the WAL is copied back into the
                # database (a checkpoint, which does flush) every 10,000 pages (~40 MB) rather
                # than SQLite's 1,000: a launch writes ~65 pages, so checkpoints came every 15
                # launches and held up the writer that ran them (+18 % launches under the
                # launch storm, docs/performance.md).
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA wal_autocheckpoint=10000;"
                    "PRAGMA foreign_keys=ON;"
                ),
            },
            # A file, not memory: the live server's threads, a Huey consumer started by a test
            # and parallel requests then each get a real connection, as in production. One
            # file per test process, so that two test runs never share (and break) one.
            "TEST": {"NAME": VAR_DIR / f"test-{os.getpid()}.sqlite3"},
        }
    }
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The staff console (portal.staff) signs staff in with Django auth.
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "staff:overview"

REDIS_URL = os.environ.get("HUEY_REDIS_URL", "")
HUEY: dict[str, Any] = {
    "name": os.environ.get("HUEY_NAME", "portal"),
    "immediate": env_bool("HUEY_IMMEDIATE", False),
    "utc": True,
    # Four workers: a delivery mostly waits on its partner (up to HTTP_TIMEOUT_SECONDS), so
    # more workers overlap those waits; two slow partners no longer hold up the whole outbox.
    # Processes, not threads: under load an attempt's own work (claim, signature, HTTP, the
    # outcome) is CPU in Python, and threads share one interpreter lock — four threads sent
    # 0.41 of a plain httpx loop's rate on PostgreSQL, four processes 0.54 (docs/
    # performance.md). Each ends with the consumer's main process (portal.queue).
    "consumer": {"workers": 4, "worker_type": "process", "periodic": True},
}
if REDIS_URL:
    # Blocking reads (BRPOP, 1 s at a time): a worker wakes the moment a task is enqueued, so
    # its polling delays only apply after a Redis error (backing off up to 10 s).
    HUEY |= {
        # portal.queue: a task carries the id of the request that enqueued it (logs).
        "huey_class": "portal.queue.PortalRedisHuey",
        "connection": {"url": REDIS_URL},
        "blocking": True,
        "read_timeout": 1,
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    HUEY |= {
        "huey_class": "portal.queue.PortalSqliteHuey",
        "filename": str(VAR_DIR / "huey.sqlite3"),
    }
    # SQLite can't block: an idle worker polls (one indexed SELECT), every 0.1 s growing to
    # 0.5 s (huey's default grows to 10 s), so a committed delivery is taken within 0.5 s.
    HUEY["consumer"] |= {"initial_delay": 0.1, "backoff": 1.15, "max_delay": 0.5}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fa", "فارسی")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # In production `collectstatic` (deploy runbook) writes each file under a name holding its
    # hash, gzip- and brotli-compressed beside it, and WhiteNoise serves those for a year
    # (immutable); a deploy changes the names. With DEBUG files are served as they are edited.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG and PUBLIC_BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_FAILURE_VIEW = "portal.errors.csrf_failure"
# The scorecard's `assessment-session` cookie (seed 002) follows the same rule: Secure only
# when the portal is served over https, so plain-http staging keeps its sessions. Its domain is
# the seed's production `domain` (e.g. aireadycheck.com); unset, the cookie is host-only.
SCORECARD_COOKIE_SECURE = SESSION_COOKIE_SECURE
SCORECARD_COOKIE_DOMAIN = os.environ.get("SCORECARD_COOKIE_DOMAIN", "").strip() or None
# HTTPS in production (docs/operations.md, "Production environment"): HSTS once the whole site is
# https for good; the redirect, or a proxy that redirects; behind a proxy that terminates TLS,
# SECURE_PROXY_SSL_HEADER=true trusts its X-Forwarded-Proto (only set it when the proxy
# overwrites that header on every request).
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The probes answer over plain http too: load balancers call them on the instance's own address.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# The seed's security headers, on every response (docs/security.md).
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CSP = {"default-src": [CSP.SELF]}
SECURITY_EXTRA_HEADERS = {"X-XSS-Protection": "1; mode=block"}

# Rate limits and request figures (portal.ratelimit, portal.metrics) are counted in Redis when
# RATE_LIMIT_CACHE is a Redis cache, else in the database's portal_counter table (a migration
# makes it). The default cache is shared by every web worker: Redis, or the database
# (`manage.py createcachetable` makes its table; the test runner does so itself). Never
# per-process memory.
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, with one Redis client per connection pool (portal/cache.py).
            "BACKEND": "portal.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "portal"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "portal"),
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }
RATE_LIMIT_CACHE = "default"
# How many reverse proxies of ours stand in front of the portal and append to X-Forwarded-For;
# 0 (direct) ignores that header, which any client can forge.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# The sandbox (portal.sandbox): a fake customer and roleplay partner that mint launch tokens with
# the demo partner's secret. On by default only with DEBUG (`make run`); off, its pages are 404s
# and seed_demo refuses to run.
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", DEBUG)
# Outbound callbacks: hosts a customer's callback_url may point to when its token does not
# restrict them further is any http(s) host; loopback (127.0.0.1: any local port) only when the
# sandbox, which the portal calls back on its own address, is on.
OUTBOUND_ALLOW_LOOPBACK = env_bool("OUTBOUND_ALLOW_LOOPBACK", SANDBOX_ENABLED)
HTTP_TIMEOUT_SECONDS = float(os.environ.get("HTTP_TIMEOUT_SECONDS", "10"))

# Housekeeping (portal.housekeeping): finished things older than this many days are deleted daily.
DELIVERY_RETENTION_DAYS = int(os.environ.get("DELIVERY_RETENTION_DAYS", "90"))
DELIVERY_ATTEMPT_RETENTION_DAYS = int(os.environ.get("DELIVERY_ATTEMPT_RETENTION_DAYS", "30"))
RECEIVED_WEBHOOK_RETENTION_DAYS = int(os.environ.get("RECEIVED_WEBHOOK_RETENTION_DAYS", "30"))

# /metrics for Prometheus (portal.prometheus): off unless enabled; with a token a scrape must send
# "Authorization: Bearer <token>", without one only loopback addresses may scrape.
METRICS_ENABLED = env_bool("METRICS_ENABLED", False)
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# One line per request (portal.logs), each with its request id; LOG_FORMAT=json for machines.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "portal.request_id.RequestIdFilter"},
        # Huey's lines for each run of a task that logs its own (a delivery attempt, a routine
        # periodic task) are left out (kept as DEBUG lines with LOG_LEVEL=DEBUG).
        "quiet_tasks": {"()": "portal.queue.QuietTasks"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {"()": "portal.logformat.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "quiet_tasks"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Configured here, so that run_huey adds no handler of its own (each line came twice).
        "huey": {
            "handlers": ["console"],
            "level": LOG_LEVEL,
            "propagate": False,
        },
        # httpx logs every request at INFO; each delivery attempt has its own line already.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- outbound deliveries (integrations) ---
# How long a worker holds a delivery it is sending. It must outlast one attempt (each HTTP step
# is bounded by HTTP_TIMEOUT_SECONDS), so two workers never send the same delivery at once; a
# worker that dies mid-send frees the delivery when it runs out, and the sweep sends it again.
DELIVERY_CLAIM_SECONDS = float(os.environ.get("DELIVERY_CLAIM_SECONDS", "300"))

# --- e-mail and HubSpot ---
# Results e-mails go out through the outbox (integrations.email) with Django's default mailer:
# SMTP when EMAIL_HOST is set; in development (DEBUG) without it, printed on the console.
# Django 6.1 configures mailers in MAILERS (the EMAIL_HOST… settings are deprecated); the
# environment variables keep their usual names.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "AI Reality Check <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MAILERS: dict[str, dict[str, Any]]
if os.environ.get("EMAIL_BACKEND") or (DEBUG and not EMAIL_HOST):
    MAILERS = {
        "default": {
            "BACKEND": os.environ.get("EMAIL_BACKEND")
            or "django.core.mail.backends.console.EmailBackend"
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                # A relay gets submission with STARTTLS by default; without one, a mail
                # server on this machine (localhost:25, plain), as Django always defaulted to.
                "host": EMAIL_HOST or "localhost",
                "port": int(os.environ.get("EMAIL_PORT") or (587 if EMAIL_HOST else 25)),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", bool(EMAIL_HOST)),
                # One SMTP step may take this long; well inside DELIVERY_CLAIM_SECONDS.
                "timeout": float(os.environ.get("EMAIL_TIMEOUT", "10")),
            },
        }
    }
del EMAIL_HOST  # deprecated as a setting: MAILERS says it
# HubSpot CRM sync (integrations.hubspot): a private app's access token; unset, no sync is
# made and the scorecard reports it "skipped".
HUBSPOT_ACCESS_TOKEN = os.environ.get("HUBSPOT_ACCESS_TOKEN", "")
HUBSPOT_API_BASE = os.environ.get("HUBSPOT_API_BASE", "https://api.hubapi.com").rstrip("/")
# Internal ids of the deal pipeline and stage (HubSpot wants ids, not labels).
HUBSPOT_DEAL_PIPELINE = os.environ.get("HUBSPOT_DEAL_PIPELINE", "ai_consulting_pipeline")
HUBSPOT_DEAL_STAGE = os.environ.get("HUBSPOT_DEAL_STAGE", "executive_briefing_requested")
# A deal property (single-line text, unique values) holding the assessment id: a retry whose
# create reply was lost finds the deal by it instead of creating a second one.
HUBSPOT_DEAL_ID_PROPERTY = os.environ.get("HUBSPOT_DEAL_ID_PROPERTY", "ai_assessment_id")
