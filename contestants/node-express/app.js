'use strict';

const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { setTimeout: sleep } = require('node:timers/promises');
const express = require('express');
const {
  MAX_BODY_BYTES,
  MAX_QUERIES,
  MAX_COMPUTE_N,
  clampedCount,
  parseSleepMs,
  randomWorldId,
  randomWorldIds,
  randomNumber,
  computeStats,
  isJsonContentType,
  validateUser,
  withAdditionalFortune,
} = require('./logic');

function requireJsonBody(req, res, next) {
  if (!isJsonContentType(req.get('content-type'))) {
    res.status(415).json({ error: 'Content-Type must be application/json' });
    return;
  }
  next();
}

/** Errors from body parsing (400, 413, 415) and from handlers, answered as JSON. */
function jsonErrors(err, req, res, next) {
  if (res.headersSent) {
    next(err);
    return;
  }
  const status = err.status >= 400 && err.status < 600 ? err.status : 500;
  if (status >= 500) {
    console.error(err);
  }
  res.status(status).json({ error: status >= 500 ? 'internal server error' : err.message });
}

function createApp(db) {
  const app = express();
  // Only the exact paths of the API are routes: `/json/` and `/JSON` are 404s like any other path.
  app.set('strict routing', true);
  app.set('case sensitive routing', true);
  app.set('views', path.join(__dirname, 'views'));
  app.set('view engine', 'ejs');

  app.get('/healthz', (req, res) => {
    res.type('text/plain').send('ok');
  });

  app.get('/plaintext', (req, res) => {
    res.type('text/plain').send('Hello, World!');
  });

  app.get('/json', (req, res) => {
    res.json({ message: 'Hello, World!' });
  });

  // Database calls answer at once on SQLite and with a promise on PostgreSQL: `await` takes
  // both, and Express 5 sends a rejected promise to the error handler.
  app.get('/db', async (req, res) => {
    res.json(await db.findWorld(randomWorldId()));
  });

  app.get('/queries', async (req, res) => {
    res.json(await db.findWorlds(randomWorldIds(clampedCount(req.query.n, MAX_QUERIES))));
  });

  app.get('/updates', async (req, res) => {
    const worlds = await db.findWorlds(randomWorldIds(clampedCount(req.query.n, MAX_QUERIES)));
    for (const world of worlds) {
      world.randomNumber = randomNumber();
    }
    await db.saveWorlds(worlds);
    res.json(worlds);
  });

  app.get('/fortunes', async (req, res) => {
    res.render('fortunes', { fortunes: withAdditionalFortune(await db.allFortunes()) });
  });

  app.get('/io', async (req, res) => {
    const ms = parseSleepMs(req.query.ms);
    if (ms === null) {
      res.status(400).json({ error: 'ms must be an integer from 0 to 10000' });
      return;
    }
    await sleep(ms);
    res.json({ slept_ms: ms });
  });

  app.get('/compute', (req, res) => {
    res.json(computeStats(clampedCount(req.query.n, MAX_COMPUTE_N)));
  });

  app.post('/users', requireJsonBody, express.json({ limit: MAX_BODY_BYTES }), (req, res) => {
    const problem = validateUser(req.body);
    if (problem !== null) {
      res.status(400).json({ error: problem });
      return;
    }
    const { name, email, age } = req.body;
    res.status(201).json({ id: randomUUID(), name, email, age });
  });

  app.use((req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use(jsonErrors);

  return app;
}

module.exports = { createApp };
