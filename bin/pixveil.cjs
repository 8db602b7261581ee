#!/usr/bin/env node
// Runs the compiled CLI; `npm ci` builds it (prepare script). CommonJS on purpose: this runs before
// Node's ES module loader first uses libuv's threadpool, and libuv reads UV_THREADPOOL_SIZE only
// then, once: set here, the size holds for the whole process (bin/threadpool.cjs says why it matters).
'use strict';
require('./threadpool.cjs').applyThreadpoolSize();
import('../dist/src/cli.js');
