'use strict';

// Prints `name=version` for the runtime and the packages actually installed.

const fs = require('node:fs');
const path = require('node:path');

const packages = ['express', 'helmet', 'ejs', 'ws', 'better-sqlite3'];

console.log(`node=${process.version}`);
for (const name of packages) {
  const manifest = path.join(__dirname, 'node_modules', name, 'package.json');
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
  console.log(`${name}=${version}`);
}
