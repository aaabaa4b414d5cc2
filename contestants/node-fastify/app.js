'use strict';

const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { setTimeout: sleep } = require('node:timers/promises');
const Fastify = require('fastify');
const fastifyView = require('@fastify/view');
const fastifyWebsocket = require('@fastify/websocket');
const ejs = require('ejs');
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
  withAdditionalFortune,
} = require('./logic');

const world = {
  type: 'object',
  properties: { id: { type: 'integer' }, randomNumber: { type: 'integer' } },
};
const worlds = { type: 'array', items: world };

const newUser = {
  type: 'object',
  required: ['name', 'email', 'age'],
  properties: {
    // Lengths count code points (Ajv's default).
    name: { type: 'string', minLength: 1, maxLength: 64 },
    email: { type: 'string', maxLength: 254, pattern: '^[^@]+@[^@]+$' },
    age: { type: 'integer', minimum: 0, maximum: 150 },
  },
};

const user = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    email: { type: 'string' },
    age: { type: 'integer' },
  },
};

const stats = {
  type: 'object',
  properties: {
    n: { type: 'integer' },
    sum: { type: 'number' },
    mean: { type: 'number' },
    std: { type: 'number' },
    min: { type: 'number' },
    max: { type: 'number' },
  },
};

function addDateHeader(headers) {
  headers.push(`Date: ${new Date().toUTCString()}`);
}

async function buildApp({ db, room }) {
  const app = Fastify({
    // The logger is left at Fastify's default (off): a logger at level 'warn' still builds a
    // child logger for every request.
    bodyLimit: MAX_BODY_BYTES,
    // Validate bodies as sent: no turning "36" or true into an integer.
    ajv: { customOptions: { coerceTypes: false } },
  });

  // Only JSON bodies are accepted; anything else is a 415.
  app.removeContentTypeParser('text/plain');

  // Errors (validation 400, body 413, media type 415, handler failures) answered as {"error": ...}.
  app.setErrorHandler((err, request, reply) => {
    const status = err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      console.error(err);
    }
    reply.code(status).send({ error: status >= 500 ? 'Internal Server Error' : err.message });
  });

  await app.register(fastifyView, {
    engine: { ejs },
    root: path.join(__dirname, 'views'),
    production: process.env.NODE_ENV === 'production',
  });

  await app.register(fastifyWebsocket);
  app.websocketServer.on('headers', addDateHeader);

  app.get('/healthz', async () => 'ok');

  app.get('/plaintext', async () => 'Hello, World!');

  app.get(
    '/json',
    { schema: { response: { 200: { type: 'object', properties: { message: { type: 'string' } } } } } },
    async () => ({ message: 'Hello, World!' }),
  );

  // Database calls answer at once on SQLite and with a promise on PostgreSQL; the handlers are
  // async, so both work.
  app.get('/db', { schema: { response: { 200: world } } }, async () => db.findWorld(randomWorldId()));

  app.get('/queries', { schema: { response: { 200: worlds } } }, async (request) =>
    db.findWorlds(randomWorldIds(clampedCount(request.query.n, MAX_QUERIES))),
  );

  app.get('/updates', { schema: { response: { 200: worlds } } }, async (request) => {
    const result = await db.findWorlds(randomWorldIds(clampedCount(request.query.n, MAX_QUERIES)));
    for (const row of result) {
      row.randomNumber = randomNumber();
    }
    await db.saveWorlds(result);
    return result;
  });

  app.get('/fortunes', async (request, reply) => {
    const fortunes = withAdditionalFortune(await db.allFortunes());
    const html = await reply.viewAsync('fortunes.ejs', { fortunes });
    return reply.type('text/html; charset=utf-8').send(html);
  });

  app.get(
    '/io',
    { schema: { response: { 200: { type: 'object', properties: { slept_ms: { type: 'integer' } } } } } },
    async (request, reply) => {
      const ms = parseSleepMs(request.query.ms);
      if (ms === null) {
        return reply.code(400).send({ error: 'ms must be an integer from 0 to 10000' });
      }
      await sleep(ms);
      return { slept_ms: ms };
    },
  );

  app.get('/compute', { schema: { response: { 200: stats } } }, async (request) =>
    computeStats(clampedCount(request.query.n, MAX_COMPUTE_N)),
  );

  app.post('/users', { schema: { body: newUser, response: { 201: user } } }, async (request, reply) => {
    const { name, email, age } = request.body;
    return reply.code(201).send({ id: randomUUID(), name, email, age });
  });

  app.get('/ws', { websocket: true }, (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });

  // A room must reach every member, which one process can only promise for its own sockets.
  if (room) {
    const members = new Set();
    app.get('/ws/room', { websocket: true }, (socket) => {
      members.add(socket);
      socket.on('close', () => members.delete(socket));
      socket.on('message', (data, isBinary) => {
        for (const member of members) {
          if (member.readyState === member.OPEN) {
            member.send(data, { binary: isBinary });
          }
        }
      });
    });
  }

  return app;
}

module.exports = { buildApp };
