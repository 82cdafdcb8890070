#!/usr/bin/env node
// The published entry point: the compiled CLI (built by `npm run build`, which `npm ci` runs).
await import('../dist/cli/main.js');
