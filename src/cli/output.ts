import { redactSecrets } from '../core/redact.js';

/** Where a command writes; injected so tests and the library can capture output. */
export interface Output {
  readonly json: boolean;
  readonly isTerminal: boolean;
  write(text: string): void;
  error(text: string): void;
}

/**
 * Standard output and error. Every line passes through `redactSecrets` on its way out: a
 * summary, a table or a JSON document may carry a connection string (a source label, a
 * driver's message), and this is the one door they all leave by.
 */
export function processOutput(json: boolean): Output {
  const line = (text: string) => redactSecrets(text.endsWith('\n') ? text : `${text}\n`);
  return {
    json,
    isTerminal: process.stdout.isTTY === true,
    write: (text) => process.stdout.write(line(text)),
    error: (text) => process.stderr.write(line(text)),
  };
}

/** Print `value` as one JSON document, or as text for people. */
export function emit(out: Output, value: unknown, asText: () => string): void {
  out.write(out.json ? JSON.stringify(value, null, 2) : asText());
}
