"""Print `name=version` lines for the runtime and the installed framework stack."""

import platform
from importlib.metadata import version

print(f"python={platform.python_version()}")
for dist in ("django", "psycopg", "psycopg-pool", "channels", "asgiref", "uvicorn", "uvloop", "httptools", "websockets"):
    print(f"{dist}={version(dist)}")
