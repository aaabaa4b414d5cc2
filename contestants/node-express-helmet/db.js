'use strict';

const Database = require('better-sqlite3');

/**
 * Opens the dataset read-write and prepares every statement the app uses.
 * Several processes write to the file during /updates, so a busy timeout is set.
 */
function openDatabase(path) {
  const db = new Database(path, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');

  const selectWorld = db.prepare('SELECT id, randomNumber FROM world WHERE id = ?');
  const updateWorld = db.prepare('UPDATE world SET randomNumber = ? WHERE id = ?');
  const selectFortunes = db.prepare('SELECT id, message FROM fortune');

  // One UPDATE per row, committed together; IMMEDIATE takes the write lock up front.
  const updateWorlds = db.transaction((worlds) => {
    for (const world of worlds) {
      updateWorld.run(world.randomNumber, world.id);
    }
  });

  return {
    findWorld: (id) => selectWorld.get(id),
    allFortunes: () => selectFortunes.all(),
    saveWorlds: (worlds) => updateWorlds.immediate(worlds),
    close: () => db.close(),
  };
}

module.exports = { openDatabase };
