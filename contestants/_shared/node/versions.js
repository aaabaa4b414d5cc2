'use strict';

// Prints `name=version` for the runtime (first line) and every dependency actually installed,
// read from package.json's `dependencies` and each package's own manifest.

const fs = require('node:fs');
const path = require('node:path');

const read = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

console.log(`node=${process.version}`);
for (const name of Object.keys(read(path.join(__dirname, 'package.json')).dependencies)) {
  const { version } = read(path.join(__dirname, 'node_modules', name, 'package.json'));
  console.log(`${name}=${version}`);
}
