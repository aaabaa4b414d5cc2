'use strict';

const { Pool } = require('pg');

/**
 * Connections per worker process, the same in every contestant: enough to keep PostgreSQL busy
 * while the event loop answers other requests; 16 x WORKERS fits faceoff's server
 * (max_connections 400) up to 24 workers.
 */
const POOL_SIZE = 16;

// Named statements are prepared once per connection and reused. The column is `randomnumber`
// in PostgreSQL; the quoted alias gives the row the contract's JSON key.
const SELECT_WORLD = {
  name: 'select-world',
  text: 'SELECT id, randomNumber AS "randomNumber" FROM world WHERE id = $1',
};
const UPDATE_WORLD = { name: 'update-world', text: 'UPDATE world SET randomNumber = $1 WHERE id = $2' };
const SELECT_FORTUNES = { name: 'select-fortunes', text: 'SELECT id, message FROM fortune' };

/**
 * Opens a pool of node-postgres connections to `url` (DATABASE_URL) and checks that the dataset
 * is there, so a wrong URL stops the process at start-up. The same interface as the SQLite one
 * in db.js, except that every call returns a promise. One pooled connection per request; its
 * queries run one after another, one query per row.
 */
async function openPostgres(url) {
  // idleTimeoutMillis 0: connections stay open for the life of the process.
  const pool = new Pool({ connectionString: url, max: POOL_SIZE, idleTimeoutMillis: 0 });
  // A connection that dies while idle is dropped by the pool; without a listener it would
  // throw in the process.
  pool.on('error', (err) => console.error(`PostgreSQL connection lost: ${err.message}`));
  await pool.query('SELECT count(*) FROM world');

  const query = async (statement, values) => (await pool.query({ ...statement, values })).rows;

  /** Runs `job(client)` on one pooled connection and gives it back, broken ones destroyed. */
  const withClient = async (job) => {
    const client = await pool.connect();
    let broken;
    try {
      return await job(client);
    } catch (err) {
      broken = err;
      throw err;
    } finally {
      client.release(broken);
    }
  };

  const findWorlds = (ids) =>
    withClient(async (client) => {
      const worlds = new Array(ids.length);
      for (let i = 0; i < ids.length; i++) {
        worlds[i] = (await client.query({ ...SELECT_WORLD, values: [ids[i]] })).rows[0];
      }
      return worlds;
    });

  // One UPDATE per row in ascending id order, in one transaction.
  const saveWorlds = (worlds) =>
    withClient(async (client) => {
      await client.query('BEGIN');
      for (const world of [...worlds].sort((a, b) => a.id - b.id)) {
        await client.query({ ...UPDATE_WORLD, values: [world.randomNumber, world.id] });
      }
      await client.query('COMMIT');
    });

  return {
    findWorld: async (id) => (await query(SELECT_WORLD, [id]))[0],
    findWorlds,
    allFortunes: () => query(SELECT_FORTUNES, []),
    saveWorlds,
    close: () => pool.end(),
  };
}

module.exports = { openPostgres, POOL_SIZE };
