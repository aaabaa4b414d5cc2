'use strict';

const MAX_BODY_BYTES = 1024 * 1024;
const WORLD_ROWS = 10000;
const MAX_QUERIES = 500;
const MAX_SLEEP_MS = 10000;
const MAX_COMPUTE_N = 1000000;

/** A decimal integer from a query parameter, or null when the value is not one. */
function parseInteger(value) {
  if (typeof value !== 'string' || !/^[+-]?\d+$/.test(value)) {
    return null;
  }
  return Number(value);
}

/** Missing, empty or non-integer values count as 1; others are clamped to 1..=max. */
function clampedCount(value, max) {
  const n = parseInteger(value);
  if (n === null || n < 1) {
    return 1;
  }
  return Math.min(n, max);
}

/** Milliseconds to sleep for /io, or null when the value is missing or out of range. */
function parseSleepMs(value) {
  const ms = parseInteger(value);
  return ms !== null && ms >= 0 && ms <= MAX_SLEEP_MS ? ms : null;
}

function randomWorldId() {
  return 1 + Math.floor(Math.random() * WORLD_ROWS);
}

/** `count` ids drawn independently (repeats allowed). */
function randomWorldIds(count) {
  const ids = new Array(count);
  for (let i = 0; i < count; i++) {
    ids[i] = randomWorldId();
  }
  return ids;
}

function randomNumber() {
  return 1 + Math.floor(Math.random() * WORLD_ROWS);
}

function sample(i) {
  return ((i * 7919) % 10007) / 10007;
}

/** Sum, mean, population standard deviation, min and max of the first n samples. */
function computeStats(n) {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = sample(i);
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const d = sample(i) - mean;
    squares += d * d;
  }
  return { n, sum, mean, std: Math.sqrt(squares / n), min, max };
}

/** True for `application/json`, with or without parameters such as a charset. */
function isJsonContentType(header) {
  if (typeof header !== 'string') {
    return false;
  }
  return header.split(';', 1)[0].trim().toLowerCase() === 'application/json';
}

/** Length in Unicode code points, which is what "characters" means in the API. */
function characterCount(text) {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** The reason a POST /users body is invalid, or null when it is valid. */
function validateUser(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return 'body must be a JSON object';
  }
  const { name, email, age } = body;
  if (typeof name !== 'string') {
    return 'name must be a string';
  }
  const nameLength = characterCount(name);
  if (nameLength < 1 || nameLength > 64) {
    return 'name must be 1 to 64 characters long';
  }
  if (typeof email !== 'string') {
    return 'email must be a string';
  }
  if (characterCount(email) > 254) {
    return 'email must be at most 254 characters long';
  }
  const at = email.indexOf('@');
  if (at <= 0 || at === email.length - 1 || email.indexOf('@', at + 1) !== -1) {
    return 'email must contain exactly one "@", neither first nor last';
  }
  if (typeof age !== 'number' || !Number.isInteger(age) || age < 0 || age > 150) {
    return 'age must be an integer from 0 to 150';
  }
  return null;
}

function isSurrogate(unit) {
  return unit >= 0xd800 && unit <= 0xdfff;
}

/**
 * Orders strings by Unicode code point. Plain `<` compares UTF-16 code units, which puts
 * characters above U+FFFF (surrogate pairs) before U+E000..U+FFFF.
 */
function compareCodePoints(a, b) {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const xs = isSurrogate(x);
      if (xs !== isSurrogate(y)) {
        return xs ? 1 : -1;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/** The fortunes of the database plus the one added at request time, sorted by message. */
function withAdditionalFortune(fortunes) {
  fortunes.push({ id: 0, message: 'Additional fortune added at request time.' });
  return fortunes.sort((a, b) => compareCodePoints(a.message, b.message));
}

module.exports = {
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
};
