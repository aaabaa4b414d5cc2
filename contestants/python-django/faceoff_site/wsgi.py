"""WSGI entry point, served by gunicorn (see contestant.toml)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "faceoff_site.settings")
application = get_wsgi_application()
