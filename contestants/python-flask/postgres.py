"""The PostgreSQL path of python-flask (when faceoff sets DATABASE_URL): psycopg 3 with
psycopg_pool, one pool per gunicorn worker process shared by its threads.

One pooled connection per request, in autocommit mode, so reads run outside any transaction and
/updates opens exactly one; the queries of a request run one after another on it, one query per
row. psycopg prepares a statement on a connection once it has run a few times (its default).
"""

from psycopg_pool import ConnectionPool

# Connections per worker process, the same in every contestant: enough to keep PostgreSQL busy
# while the process serves other requests; 16 x WORKERS fits faceoff's server (max_connections
# 400) up to 24 workers. The 256 threads of a worker queue for them.
POOL_SIZE = 16
# How long a request waits for a free connection before it fails.
POOL_TIMEOUT_S = 30.0

# The column is `randomnumber` in PostgreSQL (folded case); the JSON key stays `randomNumber`.
SELECT_WORLD = "SELECT id, randomNumber FROM world WHERE id = %s"
UPDATE_WORLD = "UPDATE world SET randomNumber = %s WHERE id = %s"
SELECT_FORTUNES = "SELECT id, message FROM fortune"


class Postgres:
    """The same methods as app.Sqlite, on a pool opened when the worker imports the app."""

    def __init__(self, url: str) -> None:
        self.pool = ConnectionPool(
            url,
            min_size=POOL_SIZE,
            max_size=POOL_SIZE,
            timeout=POOL_TIMEOUT_S,
            kwargs={"autocommit": True},
            open=True,
        )
        # A wrong URL or a missing dataset stops the worker at start-up, not on the first request.
        self.pool.wait(timeout=POOL_TIMEOUT_S)
        with self.pool.connection() as conn:
            conn.execute("SELECT count(*) FROM world").fetchone()

    def worlds(self, ids: list[int]) -> list[dict]:
        with self.pool.connection() as conn:
            return [fetch_world(conn, world_id) for world_id in ids]

    def update_worlds(self, ids: list[int], new_number) -> list[dict]:
        """Reads the rows of `ids`, gives each `new_number()`, and writes them back with one
        UPDATE per row in ascending id order, in one transaction."""
        with self.pool.connection() as conn:
            worlds = [fetch_world(conn, world_id) for world_id in ids]
            for world in worlds:
                world["randomNumber"] = new_number()
            with conn.transaction():
                for world in sorted(worlds, key=lambda w: w["id"]):
                    conn.execute(UPDATE_WORLD, (world["randomNumber"], world["id"]))
        return worlds

    def fortunes(self) -> list[dict]:
        with self.pool.connection() as conn:
            rows = conn.execute(SELECT_FORTUNES).fetchall()
        return [{"id": row[0], "message": row[1]} for row in rows]


def fetch_world(conn, world_id: int) -> dict:
    row = conn.execute(SELECT_WORLD, (world_id,)).fetchone()
    return {"id": row[0], "randomNumber": row[1]}
