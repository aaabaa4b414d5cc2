"""faceoff reference contestant: Flask on gunicorn (gthread workers), flask-sock for WebSockets.

The dataset is read from the SQLite file at DB_PATH, or, when faceoff sets DATABASE_URL
(`--database postgres`), from PostgreSQL through psycopg 3 (postgres.py); both offer the same
three methods to the views.
"""

import json
import math
import os
import random
import re
import sqlite3
import threading
import time
import uuid

from flask import Flask, Response, jsonify, render_template, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

# Set by faceoff with `--database postgres`; otherwise the SQLite file at DB_PATH.
DATABASE_URL = os.environ.get("DATABASE_URL")
DB_PATH = os.environ.get("DB_PATH")
BUSY_TIMEOUT_S = 5.0
MAX_BODY_BYTES = 1024 * 1024
INTEGER = re.compile(r"[+-]?[0-9]+")

app = Flask(__name__)
sock = Sock(app)


# --- database ----------------------------------------------------------------------------------


_local = threading.local()


def get_db() -> sqlite3.Connection:
    """One connection per gunicorn thread, opened on first use and kept for the thread's life."""
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


def fetch_world(db: sqlite3.Connection, world_id: int) -> dict:
    row = db.execute("SELECT id, randomNumber FROM world WHERE id = ?", (world_id,)).fetchone()
    return {"id": row[0], "randomNumber": row[1]}


class Sqlite:
    """The dataset in SQLite, on this thread's connection."""

    def worlds(self, ids: list[int]) -> list[dict]:
        db = get_db()
        return [fetch_world(db, world_id) for world_id in ids]

    def update_worlds(self, ids: list[int], new_number) -> list[dict]:
        """Reads the rows of `ids`, gives each `new_number()`, and writes them back with one
        UPDATE per row in ascending id order, in one transaction."""
        db = get_db()
        worlds = [fetch_world(db, world_id) for world_id in ids]
        for world in worlds:
            world["randomNumber"] = new_number()
        with db:  # one transaction, committed (or rolled back) on exit
            for world in sorted(worlds, key=lambda w: w["id"]):
                db.execute(
                    "UPDATE world SET randomNumber = ? WHERE id = ?",
                    (world["randomNumber"], world["id"]),
                )
        return worlds

    def fortunes(self) -> list[dict]:
        rows = get_db().execute("SELECT id, message FROM fortune").fetchall()
        return [{"id": row[0], "message": row[1]} for row in rows]


if DATABASE_URL:
    from postgres import Postgres

    database = Postgres(DATABASE_URL)
elif DB_PATH:
    database = Sqlite()
else:
    raise SystemExit("DB_PATH is not set (nor DATABASE_URL)")


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


def error(status: int, message: str):
    return jsonify(error=message), status


# --- plain endpoints ---------------------------------------------------------------------------


def text(body: str) -> Response:
    return Response(body, mimetype="text/plain")


@app.get("/healthz")
def healthz():
    return text("ok")


@app.get("/plaintext")
def plaintext():
    return text("Hello, World!")


@app.get("/json")
def json_endpoint():
    return jsonify(message="Hello, World!")


# --- database endpoints ------------------------------------------------------------------------


@app.get("/db")
def single_query():
    return jsonify(database.worlds([random_id()])[0])


@app.get("/queries")
def multiple_queries():
    count = clamp_count(request.args.get("n"), 500)
    return jsonify(database.worlds([random_id() for _ in range(count)]))


@app.get("/updates")
def updates():
    count = clamp_count(request.args.get("n"), 500)
    return jsonify(database.update_worlds([random_id() for _ in range(count)], random_id))


@app.get("/fortunes")
def fortunes():
    items = database.fortunes()
    items.append({"id": 0, "message": "Additional fortune added at request time."})
    items.sort(key=lambda item: item["message"])
    return render_template("fortunes.html", fortunes=items)


# --- io and compute ----------------------------------------------------------------------------


@app.get("/io")
def io():
    delay = parse_int(request.args.get("ms"))
    if delay is None or not 0 <= delay <= 10000:
        return error(400, "ms must be an integer in 0..=10000")
    time.sleep(delay / 1000)  # blocks only this worker thread
    return jsonify(slept_ms=delay)


@app.get("/compute")
def compute():
    count = clamp_count(request.args.get("n"), 1_000_000)
    xs = [((i * 7919) % 10007) / 10007 for i in range(count)]
    total = math.fsum(xs)
    mean = total / count
    variance = math.fsum((x - mean) ** 2 for x in xs) / count
    return jsonify(n=count, sum=total, mean=mean, std=math.sqrt(variance), min=min(xs), max=max(xs))


# --- users -------------------------------------------------------------------------------------


def validate_user(data) -> str | None:
    """The first problem with a POST /users payload, or None if it is valid."""
    if not isinstance(data, dict):
        return "body must be a JSON object"
    name, email, age = data.get("name"), data.get("email"), data.get("age")
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        return "name must be a string of 1 to 64 characters"
    if (
        not isinstance(email, str)
        or len(email) > 254
        or email.count("@") != 1
        or email.startswith("@")
        or email.endswith("@")
    ):
        return "email must be a string of at most 254 characters with one '@' inside it"
    if not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= 150:
        return "age must be an integer from 0 to 150"
    return None


@app.post("/users")
def create_user():
    if request.mimetype != "application/json":
        return error(415, "Content-Type must be application/json")
    # The limit is enforced here rather than through MAX_CONTENT_LENGTH, which cuts a chunked
    # body off at the limit instead of refusing it.
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return error(413, "body larger than 1 MiB")
    body = request.stream.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return error(413, "body larger than 1 MiB")
    try:
        data = json.loads(body)
    except ValueError:
        return error(400, "malformed JSON")
    problem = validate_user(data)
    if problem:
        return error(400, problem)
    user = {"id": str(uuid.uuid4()), "name": data["name"], "email": data["email"], "age": data["age"]}
    return jsonify(user), 201


# --- websockets --------------------------------------------------------------------------------


@sock.route("/ws")
def ws_echo(ws):
    while True:
        ws.send(ws.receive())


class Room:
    """Every connection of this process on /ws/room; each handled by its own worker thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._members: dict = {}  # connection -> lock serializing sends on it

    def join(self, ws) -> None:
        with self._lock:
            self._members[ws] = threading.Lock()

    def leave(self, ws) -> None:
        with self._lock:
            self._members.pop(ws, None)

    def broadcast(self, message) -> None:
        with self._lock:
            members = list(self._members.items())
        for member, send_lock in members:
            try:
                with send_lock:
                    member.send(message)
            except (ConnectionClosed, OSError):
                self.leave(member)


room = Room()


@sock.route("/ws/room")
def ws_room(ws):
    room.join(ws)
    try:
        while True:
            room.broadcast(ws.receive())
    finally:
        room.leave(ws)
