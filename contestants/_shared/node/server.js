'use strict';

// Entry point of every Node contestant (contestants/_shared/node). With WORKERS > 1 the primary
// forks that many workers, which share the port through node:cluster; with WORKERS = 1 the app
// runs in this process. Each contestant's own start.js exports
// `async start({ db, room, host, port })`, which serves its app until the process ends.

const cluster = require('node:cluster');
const { openDatabase } = require('./db');
const { start } = require('./start');

function positiveInteger(value, fallback) {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

const workers = positiveInteger(process.env.WORKERS, 1);
const host = process.env.HOST || '127.0.0.1';
const port = positiveInteger(process.env.PORT, 8080);
const dbPath = process.env.DB_PATH;
// Set when faceoff runs with `--database postgres`: the dataset is served from there instead.
const databaseUrl = process.env.DATABASE_URL;

function startPrimary() {
  for (let i = 0; i < workers; i++) {
    cluster.fork();
  }
  const listening = new Set();
  cluster.on('listening', (worker) => listening.add(worker.id));
  cluster.on('exit', (worker, code, signal) => {
    if (worker.exitedAfterDisconnect) {
      return;
    }
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (!listening.has(worker.id)) {
      // Configuration errors (bad DB_PATH or DATABASE_URL, port in use) would only repeat: give up.
      console.error(`worker ${worker.process.pid} failed to start (${how})`);
      process.exit(1);
    }
    console.error(`worker ${worker.process.pid} died (${how}); starting another`);
    cluster.fork();
  });
  console.log(`primary ${process.pid}: ${workers} workers on http://${host}:${port}`);
}

async function startServer() {
  if (!databaseUrl && !dbPath) {
    console.error('DB_PATH is not set (nor DATABASE_URL)');
    process.exit(1);
  }
  // pg is loaded only on that path, so the SQLite one runs exactly as before.
  const db = databaseUrl
    ? await require('./postgres').openPostgres(databaseUrl)
    : openDatabase(dbPath);
  // A room must reach every member, which one process can only promise for its own sockets.
  await start({ db, room: workers === 1, host, port });
  if (workers === 1) {
    console.log(`listening on http://${host}:${port}`);
  }
}

if (workers > 1 && cluster.isPrimary) {
  startPrimary();
} else {
  startServer().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
