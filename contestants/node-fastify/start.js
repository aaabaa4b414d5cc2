'use strict';

// Serves the Fastify app (./app), WebSockets included (see server.js).

const { buildApp } = require('./app');

async function start({ db, room, host, port }) {
  const app = await buildApp({ db, room });
  await app.listen({ port, host });
}

module.exports = { start };
