'use strict';

// better-sqlite3 falls back to compiling its addon with node-gyp, which downloads Node's headers
// unless told where they are. Prints the prefix of this Node install when its headers are there
// (include/node), so the install step can pass it as npm_config_nodedir and build offline.

const fs = require('node:fs');
const path = require('node:path');

const prefix = path.resolve(process.execPath, '..', '..');
if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  process.stdout.write(prefix);
}
