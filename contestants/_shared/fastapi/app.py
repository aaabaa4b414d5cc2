"""faceoff reference contestants python-fastapi and python-fastapi-numpy: FastAPI on uvicorn
(uvloop, httptools). Shared by both (contestants/_shared/fastapi, copied in at install time); each
brings its own `stats.py` for /compute: pure Python, or NumPy.

Blocking work (SQLite through the stdlib driver, /compute) lives in plain `def`
path operations, which FastAPI runs in its thread pool so the event loop stays free. Those take
`response_model=None` ("Disable Response Model" in FastAPI's Response Model tutorial): the return
annotation stays for readers, but FastAPI does not validate the answer against it, which for a
`def` endpoint costs a second trip through the thread pool per request.

When faceoff sets DATABASE_URL (`--database postgres`) the database endpoints are `async def`
ones on asyncpg instead (postgres.py); they take `response_model=None` too, so both paths do
the same work besides the database's.
"""

import asyncio
import os
import random
import re
import sqlite3
import threading
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, field_validator

from stats import summary

# Set by faceoff with `--database postgres`; otherwise the SQLite file at DB_PATH.
DATABASE_URL = os.environ.get("DATABASE_URL")
DB_PATH = os.environ.get("DB_PATH")
BUSY_TIMEOUT_S = 5.0
MAX_BODY_BYTES = 1024 * 1024
INTEGER = re.compile(r"[+-]?[0-9]+")

postgres = None
if DATABASE_URL:
    from postgres import Postgres

    postgres = Postgres(DATABASE_URL)
elif not DB_PATH:
    raise SystemExit("DB_PATH is not set (nor DATABASE_URL)")


@asynccontextmanager
async def lifespan(_app: FastAPI):
    """Opens the PostgreSQL pool of this worker process, when there is one."""
    if postgres is not None:
        await postgres.open()
    try:
        yield
    finally:
        if postgres is not None:
            await postgres.close()


app = FastAPI(
    lifespan=lifespan,
    title="faceoff python-fastapi",  # unused: the OpenAPI pages are off
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
    redirect_slashes=False,
)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


# --- database ----------------------------------------------------------------------------------

_local = threading.local()


def get_db() -> sqlite3.Connection:
    """One connection per thread-pool thread, opened on first use."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        # `timeout` is SQLite's busy_timeout: wait for other workers' writes instead of failing.
        # Transactions begin IMMEDIATE so a writer takes the write lock up front.
        conn = sqlite3.connect(DB_PATH, timeout=BUSY_TIMEOUT_S, isolation_level="IMMEDIATE")
        # The contract's durability, the same in every contestant: WAL with synchronous=NORMAL.
        conn.execute("PRAGMA synchronous=NORMAL")
        _local.conn = conn
    return conn


def random_id() -> int:
    return random.randint(1, 10000)


def fetch_world(conn: sqlite3.Connection, world_id: int) -> dict:
    row = conn.execute("SELECT id, randomNumber FROM world WHERE id = ?", (world_id,)).fetchone()
    return {"id": row[0], "randomNumber": row[1]}


# --- query parameters --------------------------------------------------------------------------


def parse_int(raw: str | None) -> int | None:
    if raw is None or not INTEGER.fullmatch(raw):
        return None
    return int(raw)


def clamp_count(raw: str | None, upper: int) -> int:
    n = parse_int(raw)
    if n is None:
        return 1
    return min(max(n, 1), upper)


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


# --- plain endpoints ---------------------------------------------------------------------------


@app.get("/healthz", response_class=PlainTextResponse)
async def healthz() -> str:
    return "ok"


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
async def json_endpoint() -> dict:
    return {"message": "Hello, World!"}


# --- database endpoints ------------------------------------------------------------------------


def render_fortunes(request: Request, items: list[dict]):
    """The fortunes page: the database's rows plus one added in memory, sorted by message."""
    items.append({"id": 0, "message": "Additional fortune added at request time."})
    items.sort(key=lambda item: item["message"])
    return templates.TemplateResponse(request, "fortunes.html", {"fortunes": items})


if postgres is None:

    @app.get("/db", response_model=None)
    def single_query() -> dict:
        return fetch_world(get_db(), random_id())

    @app.get("/queries", response_model=None)
    def multiple_queries(n: str | None = None) -> list[dict]:
        conn = get_db()
        return [fetch_world(conn, random_id()) for _ in range(clamp_count(n, 500))]

    @app.get("/updates", response_model=None)
    def updates(n: str | None = None) -> list[dict]:
        conn = get_db()
        worlds = [fetch_world(conn, random_id()) for _ in range(clamp_count(n, 500))]
        for world in worlds:
            world["randomNumber"] = random_id()
        with conn:  # one transaction, committed (or rolled back) on exit; rows in ascending id order
            for world in sorted(worlds, key=lambda w: w["id"]):
                conn.execute(
                    "UPDATE world SET randomNumber = ? WHERE id = ?",
                    (world["randomNumber"], world["id"]),
                )
        return worlds

    @app.get("/fortunes")
    def fortunes(request: Request):
        rows = get_db().execute("SELECT id, message FROM fortune").fetchall()
        return render_fortunes(request, [{"id": row[0], "message": row[1]} for row in rows])

else:

    @app.get("/db", response_model=None)
    async def single_query() -> dict:
        return (await postgres.worlds([random_id()]))[0]

    @app.get("/queries", response_model=None)
    async def multiple_queries(n: str | None = None) -> list[dict]:
        return await postgres.worlds([random_id() for _ in range(clamp_count(n, 500))])

    @app.get("/updates", response_model=None)
    async def updates(n: str | None = None) -> list[dict]:
        return await postgres.update_worlds([random_id() for _ in range(clamp_count(n, 500))], random_id)

    @app.get("/fortunes")
    async def fortunes(request: Request):
        return render_fortunes(request, await postgres.fortunes())


# --- io and compute ----------------------------------------------------------------------------


@app.get("/io")
async def io(ms: str | None = None):
    delay = parse_int(ms)
    if delay is None or not 0 <= delay <= 10000:
        return error(400, "ms must be an integer in 0..=10000")
    await asyncio.sleep(delay / 1000)
    return {"slept_ms": delay}


@app.get("/compute", response_model=None)
def compute(n: str | None = None) -> dict:
    count = clamp_count(n, 1_000_000)
    return {"n": count, **summary(count)}


# --- users -------------------------------------------------------------------------------------


class UserIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    email: Annotated[StrictStr, Field(max_length=254)]
    age: Annotated[StrictInt, Field(ge=0, le=150)]

    @field_validator("email")
    @classmethod
    def email_has_one_at(cls, value: str) -> str:
        if value.count("@") != 1 or value.startswith("@") or value.endswith("@"):
            raise ValueError("email must contain exactly one '@', neither first nor last")
        return value


class UserOut(UserIn):
    id: str


def describe(exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


@app.post("/users", status_code=201, response_model=UserOut)
async def create_user(request: Request):
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        return error(415, "Content-Type must be application/json")

    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return error(413, "body larger than 1 MiB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return error(413, "body larger than 1 MiB")

    try:
        user = UserIn.model_validate_json(bytes(body))
    except ValidationError as exc:
        return error(400, describe(exc))
    return UserOut(id=str(uuid.uuid4()), **user.model_dump())


# --- websockets --------------------------------------------------------------------------------


@app.websocket("/ws")
async def ws_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


class Room:
    """Every connection of this process on /ws/room."""

    def __init__(self) -> None:
        self.members: set[WebSocket] = set()

    async def broadcast(self, message: str) -> None:
        for member in list(self.members):
            try:
                await member.send_text(message)
            except Exception:
                self.members.discard(member)


room = Room()


@app.websocket("/ws/room")
async def ws_room(websocket: WebSocket) -> None:
    await websocket.accept()
    room.members.add(websocket)
    try:
        while True:
            await room.broadcast(await websocket.receive_text())
    except WebSocketDisconnect:
        pass
    finally:
        room.members.discard(websocket)
