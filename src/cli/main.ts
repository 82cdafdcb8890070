#!/usr/bin/env node
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2));
// Set the code rather than exit(): pending stdout writes to a pipe must finish first.
process.exitCode = code;
