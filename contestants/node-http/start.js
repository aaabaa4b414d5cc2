'use strict';

// Serves the node:http app (./app), WebSockets included (see server.js).

const { once } = require('node:events');
const { createServer } = require('./app');

async function start({ db, room, host, port }) {
  const server = createServer({ db, room });
  server.listen(port, host);
  await once(server, 'listening');
}

module.exports = { start };
