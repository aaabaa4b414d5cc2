"""The PostgreSQL path of the FastAPI pair (when faceoff sets DATABASE_URL): asyncpg, the usual
async driver of the asyncio world, with a pool per worker process opened at start-up. Endpoints
on this path are `async def`: a query waits on the event loop, never in the thread pool.

One pooled connection per request; the queries of a request run one after another on it (an
asyncpg connection runs one query at a time), one query per row. asyncpg prepares each statement
once per connection and reuses it, and its pool resets a connection (RESET ALL and friends, one
round trip) when it is given back: its default, kept.
"""

import asyncpg

# Connections per worker process, the same in every contestant: enough to keep PostgreSQL busy
# while the event loop serves other requests; 16 x WORKERS fits faceoff's server (max_connections
# 400) up to 24 workers.
POOL_SIZE = 16

# The column is `randomnumber` in PostgreSQL (folded case); the JSON key stays `randomNumber`.
SELECT_WORLD = "SELECT id, randomNumber FROM world WHERE id = $1"
UPDATE_WORLD = "UPDATE world SET randomNumber = $1 WHERE id = $2"
SELECT_FORTUNES = "SELECT id, message FROM fortune"


class Postgres:
    """The pool, opened by `open` in the app's lifespan and closed by `close`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        self.pool = await asyncpg.create_pool(self.url, min_size=POOL_SIZE, max_size=POOL_SIZE)
        # A wrong URL or a missing dataset stops the worker at start-up, not on the first request.
        await self.pool.fetchval("SELECT count(*) FROM world")

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def worlds(self, ids: list[int]) -> list[dict]:
        async with self.pool.acquire() as conn:
            return [await fetch_world(conn, world_id) for world_id in ids]

    async def update_worlds(self, ids: list[int], new_number) -> list[dict]:
        """Reads the rows of `ids`, gives each `new_number()`, and writes them back with one
        UPDATE per row in ascending id order, in one transaction."""
        async with self.pool.acquire() as conn:
            worlds = [await fetch_world(conn, world_id) for world_id in ids]
            for world in worlds:
                world["randomNumber"] = new_number()
            async with conn.transaction():
                for world in sorted(worlds, key=lambda w: w["id"]):
                    await conn.execute(UPDATE_WORLD, world["randomNumber"], world["id"])
        return worlds

    async def fortunes(self) -> list[dict]:
        rows = await self.pool.fetch(SELECT_FORTUNES)
        return [{"id": row[0], "message": row[1]} for row in rows]


async def fetch_world(conn: asyncpg.Connection, world_id: int) -> dict:
    row = await conn.fetchrow(SELECT_WORLD, world_id)
    return {"id": row[0], "randomNumber": row[1]}
