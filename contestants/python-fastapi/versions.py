"""Print `name=version` lines for the runtime and the installed framework stack."""

import platform
from importlib.metadata import version

print(f"python={platform.python_version()}")
for dist in ("fastapi", "starlette", "pydantic", "uvicorn", "uvloop", "httptools", "websockets", "jinja2", "asyncpg"):
    print(f"{dist}={version(dist)}")
