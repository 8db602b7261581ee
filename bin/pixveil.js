#!/usr/bin/env node
// Runs the compiled CLI; `npm ci` builds it (prepare script).
import '../dist/src/cli.js';
