'use strict';

const { WebSocketServer, WebSocket } = require('ws');

function addDateHeader(headers) {
  headers.push(`Date: ${new Date().toUTCString()}`);
}

/**
 * Serves `/ws` (echo) and, when `room` is true, `/ws/room` (broadcast to every member,
 * the sender included) on the upgrade requests of `server`.
 */
function attachWebSockets(server, { room }) {
  const echo = new WebSocketServer({ noServer: true, clientTracking: false });
  echo.on('headers', addDateHeader);
  echo.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });

  const endpoints = new Map([['/ws', echo]]);

  if (room) {
    const members = new WebSocketServer({ noServer: true });
    members.on('headers', addDateHeader);
    members.on('connection', (socket) => {
      socket.on('message', (data, isBinary) => {
        for (const member of members.clients) {
          if (member.readyState === WebSocket.OPEN) {
            member.send(data, { binary: isBinary });
          }
        }
      });
    });
    endpoints.set('/ws/room', members);
  }

  server.on('upgrade', (req, socket, head) => {
    const wss = endpoints.get(req.url.split('?', 1)[0]);
    if (wss === undefined) {
      socket.on('error', () => {});
      socket.end(
        `HTTP/1.1 404 Not Found\r\nDate: ${new Date().toUTCString()}\r\n` +
          'Content-Length: 0\r\nConnection: close\r\n\r\n',
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
}

module.exports = { attachWebSockets };
