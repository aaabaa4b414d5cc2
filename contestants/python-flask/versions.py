"""Print `name=version` lines for the runtime and the installed framework stack."""

import platform
from importlib.metadata import version

print(f"python={platform.python_version()}")
for dist in ("flask", "werkzeug", "gunicorn", "flask-sock", "simple-websocket", "jinja2", "psycopg", "psycopg-pool"):
    print(f"{dist}={version(dist)}")
