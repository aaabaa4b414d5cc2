"""Django settings shared by python-django (WSGI) and python-django-channels (ASGI, which adds
Channels in its settings_channels.py).

Started from `django-admin startproject` (Django 5.2): the default middleware stays as generated.
The admin site is left out: this service has no admin.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "faceoff_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

WSGI_APPLICATION = "faceoff_site.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["DB_PATH"],
        "OPTIONS": {
            # SQLite's busy_timeout, in seconds: wait for other workers' writes instead of failing.
            "timeout": 5,
            # Take the write lock when a transaction begins, so concurrent /updates queue up
            # instead of failing with "database is locked" on lock upgrade.
            "transaction_mode": "IMMEDIATE",
            # The contract's durability, the same in every contestant: WAL (set on the file by
            # faceoff) with synchronous=NORMAL.
            "init_command": "PRAGMA synchronous=NORMAL",
        },
        # Persistent connections, as Django's deployment checklist advises and the contract
        # fixes: each thread keeps its connection for its life instead of opening one per
        # request (under gunicorn, one per gthread thread; under ASGI Django runs every sync view
        # on one thread per process, so one per worker).
        "CONN_MAX_AGE": None,
    }
}

# Set by faceoff with `--database postgres`: the same models on PostgreSQL, through Django's
# PostgreSQL backend on psycopg 3 with Django's connection pool (psycopg_pool), which replaces
# persistent connections (Django refuses CONN_MAX_AGE with a pool): a view takes a connection
# from the pool on its first query and gives it back when the request ends.
DATABASE_URL = os.environ.get("DATABASE_URL")
if DATABASE_URL:
    _url = urlsplit(DATABASE_URL)
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(_url.path.lstrip("/")),
        "USER": unquote(_url.username or ""),
        "PASSWORD": unquote(_url.password or ""),
        "HOST": _url.hostname or "",
        "PORT": str(_url.port or ""),
        "OPTIONS": {
            # 16 connections per worker process, the same in every contestant: enough to keep
            # PostgreSQL busy while the process serves other requests; 16 x WORKERS fits
            # faceoff's server (max_connections 400) up to 24 workers.
            "pool": {"min_size": 16, "max_size": 16, "timeout": 30},
        },
    }

# POST /users refuses bodies over 1 MiB with 413 (see bench.views.create_user).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
