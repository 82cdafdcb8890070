/** Where a command writes; injected so tests and the library can capture output. */
export interface Output {
  readonly json: boolean;
  readonly isTerminal: boolean;
  write(text: string): void;
  error(text: string): void;
}

export function processOutput(json: boolean): Output {
  return {
    json,
    isTerminal: process.stdout.isTTY === true,
    write: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    error: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}

/** Print `value` as one JSON document, or as text for people. */
export function emit(out: Output, value: unknown, asText: () => string): void {
  out.write(out.json ? JSON.stringify(value, null, 2) : asText());
}
