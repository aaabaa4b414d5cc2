'use strict';

// Serves the Express app (./app) and the WebSocket endpoints on node:http (see server.js).

const http = require('node:http');
const { once } = require('node:events');
const { createApp } = require('./app');
const { attachWebSockets } = require('./websocket');

async function start({ db, room, host, port }) {
  const server = http.createServer(createApp(db));
  attachWebSockets(server, { room });
  server.listen(port, host);
  await once(server, 'listening');
}

module.exports = { start };
