// A faceoff contestant on Node.js's own http module, with no dependencies: /healthz and the
// contract endpoints its contestant.toml declares (docs/contestants.md). Replace the handlers
// with calls into your own app, keeping the paths and answers.
'use strict';

const http = require('node:http');

const MAX_SLEEP_MS = 10000;
const MAX_COMPUTE_N = 1000000;

function send(res, status, contentType, body) {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

function sendJson(res, status, value) {
  send(res, status, 'application/json', JSON.stringify(value));
}

/** A decimal integer from a query parameter, or null when the value is not one. */
function parseInteger(value) {
  return typeof value === 'string' && /^[+-]?\d+$/.test(value) ? Number(value) : null;
}

/** Sum, mean, population standard deviation, min and max of x_i = ((i*7919) mod 10007)/10007. */
function computeStats(n) {
  const sample = (i) => ((i * 7919) % 10007) / 10007;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = sample(i);
    sum += x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    squares += (sample(i) - mean) ** 2;
  }
  return { n, sum, mean, std: Math.sqrt(squares / n), min, max };
}

const routes = {
  '/healthz': (query, res) => send(res, 200, 'text/plain', 'ok'),
  '/plaintext': (query, res) => send(res, 200, 'text/plain', 'Hello, World!'),
  '/json': (query, res) => sendJson(res, 200, { message: 'Hello, World!' }),
  '/io': (query, res) => {
    const ms = parseInteger(query.get('ms'));
    if (ms === null || ms < 0 || ms > MAX_SLEEP_MS) {
      return sendJson(res, 400, { error: `ms must be an integer from 0 to ${MAX_SLEEP_MS}` });
    }
    setTimeout(() => sendJson(res, 200, { slept_ms: ms }), ms);
  },
  '/compute': (query, res) => {
    const n = parseInteger(query.get('n'));
    sendJson(res, 200, computeStats(n === null || n < 1 ? 1 : Math.min(n, MAX_COMPUTE_N)));
  },
};

http
  .createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const route = req.method === 'GET' ? routes[url.pathname] : undefined;
    if (route === undefined) {
      return sendJson(res, 404, { error: 'not found' });
    }
    route(url.searchParams, res);
  })
  .listen(Number(process.env.PORT), process.env.HOST || '127.0.0.1');
