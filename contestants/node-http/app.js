'use strict';

const http = require('node:http');
const { randomUUID } = require('node:crypto');
const { setTimeout: sleep } = require('node:timers/promises');
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
const { attachWebSockets } = require('./websocket');

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function send(res, status, contentType, body) {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

function sendJson(res, status, value) {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function sendText(res, status, text) {
  send(res, status, 'text/plain; charset=utf-8', text);
}

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

function renderFortunes(fortunes) {
  let html =
    '<!DOCTYPE html><html><head><title>Fortunes</title></head><body>' +
    '<table><tr><th>id</th><th>message</th></tr>';
  for (const fortune of fortunes) {
    html += `<tr><td>${fortune.id}</td><td>${escapeHtml(fortune.message)}</td></tr>`;
  }
  return html + '</table></body></html>';
}

/** Reads the whole request body, refusing more than `limit` bytes with a 413. */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      reject(new HttpError(413, 'request body is larger than 1 MiB'));
      return;
    }
    const chunks = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk) => {
      size += chunk.length;
      if (size > limit) {
        // The rest of the body is read and discarded by Node once the answer is sent.
        cleanup();
        reject(new HttpError(413, 'request body is larger than 1 MiB'));
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err) => {
      cleanup();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function createRoutes(db) {
  return new Map([
    ['GET /healthz', (req, res) => sendText(res, 200, 'ok')],

    ['GET /plaintext', (req, res) => sendText(res, 200, 'Hello, World!')],

    ['GET /json', (req, res) => sendJson(res, 200, { message: 'Hello, World!' })],

    // Database calls answer at once on SQLite and with a promise on PostgreSQL: `await` takes
    // both, and a rejected promise is answered with a 500 like a thrown error.
    ['GET /db', async (req, res) => sendJson(res, 200, await db.findWorld(randomWorldId()))],

    [
      'GET /queries',
      async (req, res, query) =>
        sendJson(res, 200, await db.findWorlds(randomWorldIds(clampedCount(query.get('n'), MAX_QUERIES)))),
    ],

    [
      'GET /updates',
      async (req, res, query) => {
        const worlds = await db.findWorlds(randomWorldIds(clampedCount(query.get('n'), MAX_QUERIES)));
        for (const world of worlds) {
          world.randomNumber = randomNumber();
        }
        await db.saveWorlds(worlds);
        sendJson(res, 200, worlds);
      },
    ],

    [
      'GET /fortunes',
      async (req, res) => {
        const fortunes = withAdditionalFortune(await db.allFortunes());
        send(res, 200, 'text/html; charset=utf-8', renderFortunes(fortunes));
      },
    ],

    [
      'GET /io',
      async (req, res, query) => {
        const ms = parseSleepMs(query.get('ms'));
        if (ms === null) {
          throw new HttpError(400, 'ms must be an integer from 0 to 10000');
        }
        await sleep(ms);
        sendJson(res, 200, { slept_ms: ms });
      },
    ],

    [
      'GET /compute',
      (req, res, query) => sendJson(res, 200, computeStats(clampedCount(query.get('n'), MAX_COMPUTE_N))),
    ],

    [
      'POST /users',
      async (req, res) => {
        if (!isJsonContentType(req.headers['content-type'])) {
          throw new HttpError(415, 'Content-Type must be application/json');
        }
        const raw = await readBody(req, MAX_BODY_BYTES);
        let body;
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new HttpError(400, 'body is not valid JSON');
        }
        const problem = validateUser(body);
        if (problem !== null) {
          throw new HttpError(400, problem);
        }
        const { name, email, age } = body;
        sendJson(res, 201, { id: randomUUID(), name, email, age });
      },
    ],
  ]);
}

function splitUrl(url) {
  const q = url.indexOf('?');
  return q === -1
    ? { pathname: url, search: '' }
    : { pathname: url.slice(0, q), search: url.slice(q + 1) };
}

function createServer({ db, room }) {
  const routes = createRoutes(db);

  const fail = (res, err) => {
    if (res.headersSent) {
      res.destroy(err);
      return;
    }
    if (err instanceof HttpError) {
      sendJson(res, err.status, { error: err.message });
    } else {
      console.error(err);
      sendJson(res, 500, { error: 'internal server error' });
    }
  };

  const server = http.createServer((req, res) => {
    const { pathname, search } = splitUrl(req.url);
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const handler = routes.get(`${method} ${pathname}`);
    if (handler === undefined) {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    try {
      const result = handler(req, res, new URLSearchParams(search));
      if (result instanceof Promise) {
        result.catch((err) => fail(res, err));
      }
    } catch (err) {
      fail(res, err);
    }
  });

  attachWebSockets(server, { room });
  return server;
}

module.exports = { createServer };
