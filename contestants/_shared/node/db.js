'use strict';

const Database = require('better-sqlite3');

/**
 * Opens the dataset read-write and prepares every statement the app uses.
 * One connection per process, kept for its life. Calls answer at once (better-sqlite3 is
 * synchronous); the PostgreSQL layer (postgres.js) has the same methods returning promises, so
 * the apps `await` every call. The contract's settings, the same in every
 * contestant: WAL, synchronous=NORMAL, and a busy timeout because several processes write to the
 * file during /updates.
 */
function openDatabase(path) {
  const db = new Database(path, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');

  const selectWorld = db.prepare('SELECT id, randomNumber FROM world WHERE id = ?');
  const updateWorld = db.prepare('UPDATE world SET randomNumber = ? WHERE id = ?');
  const selectFortunes = db.prepare('SELECT id, message FROM fortune');

  // One UPDATE per row in ascending id order, committed together; IMMEDIATE takes the write
  // lock up front.
  const updateWorlds = db.transaction((worlds) => {
    for (const world of [...worlds].sort((a, b) => a.id - b.id)) {
      updateWorld.run(world.randomNumber, world.id);
    }
  });

  return {
    findWorld: (id) => selectWorld.get(id),
    findWorlds: (ids) => ids.map((id) => selectWorld.get(id)),
    allFortunes: () => selectFortunes.all(),
    saveWorlds: (worlds) => updateWorlds.immediate(worlds),
    close: () => db.close(),
  };
}

module.exports = { openDatabase };
