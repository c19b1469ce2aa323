"""Settings for the RushTrade portal, read from the environment.

Every deploy-time value comes from an environment variable; the defaults are the
embedded run (SQLite, a broker that needs no server, console e-mail). Production is
DEBUG unset: then SECRET_KEY and ALLOWED_HOSTS must be given and the HTTPS
hardening below is on, so `manage.py check --deploy` reports nothing.
"""

from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
# Run-time files of the embedded run: SQLite database, broker folder, cache.
VAR_DIR = Path(env.str("RUSHTRADE_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (production).")
    SECRET_KEY = "django-insecure-embedded-development-key-not-for-production"  # noqa: S105

# Fernet keys for identity numbers at rest (newest first; generate one with
# `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off.")
    FIELD_ENCRYPTION_KEYS = ["ZW1iZWRkZWQtZGV2LW9ubHkta2V5LW5vdC1zZWNyZXQ="]  # embedded run only

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "rushtrade.admin_site.StaffAdminConfig",  # django.contrib.admin, staff with 2FA only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "django_celery_beat",
    "django_countries",
    "localflavor",
    "accounts",
    "trading",
    "trading.simulation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Under /v2/, any error page Django makes becomes Alpaca's JSON body.
    "trading.alpaca.middleware.AlpacaErrorBodyMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "rushtrade.headers.PermissionsPolicyMiddleware",
    # A NUL character in a query parameter is a 400 (rushtrade/parsers.py).
    "rushtrade.parsers.NulInQueryMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.users.activity.SecurityContextMiddleware",
    # Last, so that it turns a lockout flagged during authentication into the response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rushtrade.urls"
WSGI_APPLICATION = "rushtrade.wsgi.application"

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
                "django.template.context_processors.csp",
                "rushtrade.context_processors.live_pages",
            ],
        },
    },
]

# Database: SQLite in WAL mode for the embedded run; PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'rushtrade.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Several processes (web, worker, beat, gateway) share the file.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis (when configured) is the Celery broker and the cache.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_DIR = VAR_DIR / "celery-broker"
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    # kombu's filesystem transport: a broker with no server, shared through a folder.
    # Its exchange tables (the control folder: the workers' pidbox, fanout bindings) sit
    # inside that folder too; kombu's default is `control/` in the current directory.
    # Messages are only files named `<time>_<uuid>.<queue>.msg`, so the subfolder is never
    # taken for one. kombu creates it, not its parent (make setup creates that).
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR),
        "data_folder_out": str(CELERY_BROKER_DIR),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
# Quotes (trading/market/market_data.py) are a pure function of the time, so a cache in each
# process's memory answers the same as a shared one and does not churn the file cache;
# with Redis, the processes share the work.
CACHES["market_data"] = (
    {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "md",
    }
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "market-data",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }
)
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "America/Chicago"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# Request bodies of the APIs (rushtrade/parsers.py): larger or deeper JSON is a 400.
API_MAX_JSON_BYTES = env.int("API_MAX_JSON_BYTES", default=1_000_000)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)

# /api/v1 tokens: how long one lasts (the default and the most a client may ask for).
API_TOKEN_LIFETIME_DAYS = env.int("API_TOKEN_LIFETIME_DAYS", default=30)

# Users: e-mail is the login.
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out client before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# Confirming the address (from the browser that signed up) logs the new customer in.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[RushTrade] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_ADAPTER = "accounts.users.sign_in.AccountAdapter"
# Wrong 2FA codes, like wrong passwords (django-axes, below): 5 a login in 15 minutes.
# (The adapter leaves wrong passwords to axes, so this counts codes only.)
ACCOUNT_RATE_LIMITS = {
    "login_failed": f"20/m/ip,{env.int('AXES_FAILURE_LIMIT', default=5)}/900s/key"
}
# Step-up: a sensitive action needs a sign-in (or a confirmation) this recent.
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("STEP_UP_SECONDS", default=300)

# Two-factor sign-in (accounts/users/sign_in.py): an authenticator app (TOTP), passkeys
# and security keys (WebAuthn), recovery codes. Required for staff, offered to customers.
MFA_ADAPTER = "accounts.users.sign_in.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = "RushTrade"
MFA_PASSKEY_LOGIN_ENABLED = False
# Browsers allow WebAuthn on http://localhost only; the embedded run is http.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# A bank linked this recently needs a step-up before money is withdrawn to it.
NEW_BANK_LINK_DAYS = env.int("NEW_BANK_LINK_DAYS", default=7)

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.users.throttling.login_username"
AXES_LOCKOUT_CALLABLE = "accounts.users.throttling.lockout_response"
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0) or None

# E-mail: printed on the console in the embedded run; EMAIL_URL for SMTP.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
if vars().get("EMAIL_BACKEND") == "django.core.mail.backends.console.EmailBackend":
    EMAIL_BACKEND = "rushtrade.mail.ConsoleEmailBackend"  # links printed whole
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="RushTrade <no-reply@rushtrade.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/Chicago"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end packages come from npm at set-up (make setup); nothing is vendored.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated call then gets 401 with WWW-Authenticate.
        "accounts.users.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "rushtrade.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "rushtrade.schema.AutoSchema",
    "EXCEPTION_HANDLER": "rushtrade.errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "RushTrade portal API",
    "DESCRIPTION": (
        "Customer API of the RushTrade portal. Authenticate with a session or with "
        "`Authorization: Token <key>` from `POST /api/v1/auth/token`. Every error has "
        'the body `{"code": ..., "message": ..., "fields": {...}}`.\n\n'
        "The trading API under `/v2/` is compatible with Alpaca's Trading API v2 and "
        "market data v2: authenticate with the `APCA-API-KEY-ID` and `APCA-API-SECRET-KEY` "
        "headers (keys are made on the account's API keys page); errors have Alpaca's body "
        '`{"code": 40010001, "message": ...}`. Each key may make `ALPACA_RATE_LIMIT` '
        "(default 200) requests a minute: every answer carries `X-RateLimit-Limit`, "
        "`X-RateLimit-Remaining` and `X-RateLimit-Reset`; past the limit, 429."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CountryEnum": "accounts.opening.serializers.COUNTRY_CHOICES",
        "MoneyRangeEnum": "accounts.models.MoneyRange",
        "AgreementEnum": "accounts.models.Agreement",
        "OrderStatusEnum": "trading.orders.models.OrderStatus",
        # dtbp_check and pdt_check share one set of choices: one name in the schema.
        "ConfigurationCheckEnum": ["both", "entry", "exit"],
    },
}

# Production hardening: on whenever DEBUG is off, each switchable from the environment.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (Django's own middleware): our own files only, inline script or
# style only with the response's nonce, no plug-ins, no framing, forms post to us only.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Permissions-Policy (rushtrade/headers.py): no powerful feature for anyone, except
# WebAuthn (passkeys and security keys) for this origin.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "hid": [],
    "browsing-topics": [],
    "publickey-credentials-create": ["self"],
    "publickey-credentials-get": ["self"],
}
# The API schema and its docs page: public in the embedded run, staff only in production.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=DEBUG)
# /healthz gives its details (which check failed, broker, timings) to staff and to these
# networks (the load balancer, monitoring); everyone else gets ok or degraded.
HEALTHZ_INTERNAL_NETWORKS = env.list(
    "HEALTHZ_INTERNAL_NETWORKS", default=["127.0.0.0/8", "::1/128"]
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# The password `make run` gives the demo logins (embedded run only).
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="rushtrade-demo")

# Account opening: approve a clean application at once (on in the embedded run).
ACCOUNT_AUTO_APPROVE = env.bool("ACCOUNT_AUTO_APPROVE", default=DEBUG)
# The port the embedded run's web process listens on (Procfile), and the portal's public
# address, for links in e-mails and the printed demo logins (that port by default).
WEB_PORT = env.int("WEB_PORT", default=8000)
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{WEB_PORT}").rstrip("/")

# Funding. The ACH simulator (a Celery task) settles transfers after a delay in the
# embedded run; in production the bank's answers, or staff in admin, complete them.
ACH_SIMULATOR = env.bool("ACH_SIMULATOR", default=DEBUG)
ACH_SIMULATED_SETTLEMENT_SECONDS = env.int("ACH_SIMULATED_SETTLEMENT_SECONDS", default=20)
DAILY_DEPOSIT_LIMIT = Decimal(env.str("DAILY_DEPOSIT_LIMIT", default="50000.00"))
MAX_TRANSFER_AMOUNT = Decimal(env.str("MAX_TRANSFER_AMOUNT", default="1000000.00"))

# Market data: the provider class (see trading/market/market_data.py); the default is the
# simulated market shared by the portal and the routing engine simulator.
MARKET_DATA_PROVIDER = env.str(
    "MARKET_DATA_PROVIDER", default="trading.simulation.market.SimulatedMarket"
)

# Trading: commission schedule, regulatory fees, order limits.
COMMISSION_PER_ORDER = Decimal(env.str("COMMISSION_PER_ORDER", default="0.00"))
COMMISSION_PER_SHARE = Decimal(env.str("COMMISSION_PER_SHARE", default="0.005"))
COMMISSION_MINIMUM = Decimal(env.str("COMMISSION_MINIMUM", default="1.00"))
SEC_FEE_RATE = Decimal(env.str("SEC_FEE_RATE", default="0.0000278"))  # $27.80 per million
FINRA_TAF_PER_SHARE = Decimal(env.str("FINRA_TAF_PER_SHARE", default="0.000166"))
FINRA_TAF_MAXIMUM = Decimal(env.str("FINRA_TAF_MAXIMUM", default="8.30"))
MAX_ORDER_QTY = env.int("MAX_ORDER_QTY", default=1_000_000)
WATCHLIST_MAX_SYMBOLS = env.int("WATCHLIST_MAX_SYMBOLS", default=50)
WATCHLIST_MAX_LISTS = env.int("WATCHLIST_MAX_LISTS", default=20)
# The firm as its customer documents (confirmations, statements) name it.
FIRM_NAME = env.str("FIRM_NAME", default="RushTrade Securities, Inc.")
FIRM_ADDRESS = env.str("FIRM_ADDRESS", default="Dallas, Texas")
PAYMENT_FOR_ORDER_FLOW_DISCLOSURE = env.str(
    "PAYMENT_FOR_ORDER_FLOW_DISCLOSURE",
    default="receives no payment for order flow; the source and nature of any other "
    "remuneration are available on written request.",
)
ORDER_PRICE_COLLAR = Decimal(env.str("ORDER_PRICE_COLLAR", default="0.25"))  # +/-25% of last
MARKET_ORDER_BUFFER = Decimal(env.str("MARKET_ORDER_BUFFER", default="0.05"))  # held above ask

# The Alpaca-compatible trading API (/v2/): requests per minute per API key.
ALPACA_RATE_LIMIT = env.int("ALPACA_RATE_LIMIT", default=200)
# close_position / close_all_positions with cancel_orders: how long to wait for the
# routing engine to confirm the cancels before refusing to size the closing order.
CLOSE_POSITION_CANCEL_WAIT_SECONDS = env.float("CLOSE_POSITION_CANCEL_WAIT_SECONDS", default=10.0)

# The account event streams (/stream, /api/v1/events; accounts/events/feed.py). Without
# PostgreSQL's NOTIFY (the embedded SQLite run) the stream server looks for new events
# every EVENT_POLL_SECONDS; with it, every EVENT_SAFETY_POLL_SECONDS as well. An event id
# taken by a transaction that never commits holds delivery at most EVENT_GAP_SECONDS.
EVENT_POLL_SECONDS = env.float("EVENT_POLL_SECONDS", default=0.2)
EVENT_SAFETY_POLL_SECONDS = env.float("EVENT_SAFETY_POLL_SECONDS", default=1.0)
EVENT_GAP_SECONDS = env.float("EVENT_GAP_SECONDS", default=30.0)
EVENT_KEEPALIVE_SECONDS = env.float("EVENT_KEEPALIVE_SECONDS", default=15.0)
# Pages follow the event stream; if it fails they poll every PAGE_POLL_SECONDS (0: never).
PAGE_POLL_SECONDS = env.float("PAGE_POLL_SECONDS", default=5.0)

# The FIX 4.2 session between the routing gateway (initiator) and the routing engine.
ROUTING_ENGINE_HOST = env.str("ROUTING_ENGINE_HOST", default="127.0.0.1")
ROUTING_ENGINE_PORT = env.int("ROUTING_ENGINE_PORT", default=9878)
# The routing engine simulator (run_routing_engine) takes connections only from these
# addresses (QuickFIX's AllowedRemoteAddresses): by default this machine alone.
ROUTING_ENGINE_ALLOWED_ADDRESSES = env.list(
    "ROUTING_ENGINE_ALLOWED_ADDRESSES", default=["127.0.0.1"]
)
FIX_SENDER_COMP_ID = env.str("FIX_SENDER_COMP_ID", default="RUSHTRADE")
FIX_TARGET_COMP_ID = env.str("FIX_TARGET_COMP_ID", default="ROUTER")
FIX_HEARTBEAT_INTERVAL = env.int("FIX_HEARTBEAT_INTERVAL", default=30)
FIX_RECONNECT_INTERVAL = env.int("FIX_RECONNECT_INTERVAL", default=5)
FIX_STORE_DIR = Path(env.str("FIX_STORE_DIR", default=str(VAR_DIR / "fix" / "store")))
FIX_LOG_DIR = Path(env.str("FIX_LOG_DIR", default=str(VAR_DIR / "fix" / "log")))
# This gateway's share of the accounts ("k/n": accounts whose id % n == k), so that two
# gateways on two FIX sessions (each its own FIX_SENDER_COMP_ID) split the order flow.
FIX_PARTITION = env.str("FIX_PARTITION", default="0/1")
# Seconds an order message may wait for the engine's answer before the gateway asks
# about it (OrderStatusRequest, 35=H), and before it is reported as unanswered (a WARNING,
# the admin Routing page, /healthz "degraded").
FIX_STATUS_REQUEST_AFTER = env.int("FIX_STATUS_REQUEST_AFTER", default=30)
FIX_UNANSWERED_AFTER = env.int("FIX_UNANSWERED_AFTER", default=120)
# Seconds a gateway keeps outbox rows it took to send before another may take them
# (a gateway that died while sending); they then go with PossResend=Y.
FIX_CLAIM_SECONDS = env.int("FIX_CLAIM_SECONDS", default=30)
# Received messages waiting longer than this to be applied make /healthz "degraded".
FIX_INBOX_LAG_DEGRADED = env.int("FIX_INBOX_LAG_DEGRADED", default=10)

# Third-party clearing (docs/clearing.md): the drop folders of the daily files, the ids
# in their headers, and the key the accounts file encrypts identity numbers with (a
# Fernet key agreed with the clearing firm; in the embedded run a fixed development key).
CLEARING_OUTBOX_DIR = Path(
    env.str("CLEARING_OUTBOX_DIR", default=str(VAR_DIR / "clearing" / "outbox"))
)
CLEARING_INBOX_DIR = Path(
    env.str("CLEARING_INBOX_DIR", default=str(VAR_DIR / "clearing" / "inbox"))
)
CLEARING_CORRESPONDENT_ID = env.str("CLEARING_CORRESPONDENT_ID", default="RUSH")
CLEARING_FIRM_ID = env.str("CLEARING_FIRM_ID", default="CLRF")
CLEARING_FILE_KEY = env.str(
    "CLEARING_FILE_KEY",
    default="Y2xlYXJpbmctZW1iZWRkZWQtZGV2LWtleS0zMmJ5dGU=" if DEBUG else "",
)
# The clearing-firm simulator (embedded run, tests): where it keeps its state.
CLEARING_SIMULATOR_DIR = Path(
    env.str("CLEARING_SIMULATOR_DIR", default=str(VAR_DIR / "clearing" / "firm"))
)
CLEARING_SIMULATOR = env.bool("CLEARING_SIMULATOR", default=DEBUG)
# SFTP delivery to the clearing firm (docs/clearing.md, "SFTP"): off unless
# CLEARING_SFTP_URL is set, e.g. sftp://rush@sftp.clearing.example:22/inbound (the path:
# where outbound files go). The server's host key must be checked: a known_hosts file
# (CLEARING_SFTP_KNOWN_HOSTS) or the key's SHA256 fingerprint as `ssh-keygen -l` prints
# it (CLEARING_SFTP_HOST_KEY_FINGERPRINT, "SHA256:..."); with neither, nothing is sent.
# The client authenticates with a private key file, or a password.
CLEARING_SFTP_URL = env.str("CLEARING_SFTP_URL", default="")
CLEARING_SFTP_KEY_FILE = env.str("CLEARING_SFTP_KEY_FILE", default="")
CLEARING_SFTP_KEY_PASSPHRASE = env.str("CLEARING_SFTP_KEY_PASSPHRASE", default="")
CLEARING_SFTP_PASSWORD = env.str("CLEARING_SFTP_PASSWORD", default="")
CLEARING_SFTP_KNOWN_HOSTS = env.str("CLEARING_SFTP_KNOWN_HOSTS", default="")
CLEARING_SFTP_HOST_KEY_FINGERPRINT = env.str("CLEARING_SFTP_HOST_KEY_FINGERPRINT", default="")
# The folder on the same server the clearing firm leaves its morning files in; empty:
# they arrive in CLEARING_INBOX_DIR by other means.
CLEARING_SFTP_INBOUND_PATH = env.str("CLEARING_SFTP_INBOUND_PATH", default="")
CLEARING_SFTP_TIMEOUT = env.int("CLEARING_SFTP_TIMEOUT", default=30)
