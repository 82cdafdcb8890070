import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EJSON } from 'bson';
import { parseExtendedJson } from '../src/sources/ejson/parse-extended-json.js';

/** Throughput of one parser over the benchmark lines. */
export interface ParserFigures {
  readonly docsPerSecond: number;
  readonly megabytesPerSecond: number;
}

/** What {@link benchEjsonParse} measures; `speedup` is fast path over `EJSON.parse`. */
export interface EjsonParseBench {
  readonly docs: number;
  readonly bytes: number;
  readonly fastPath: ParserFigures;
  readonly ejsonParse: ParserFigures;
  readonly jsonParse: ParserFigures;
  readonly speedup: number;
}

/**
 * Measure the Extended JSON fast path against `EJSON.parse(line, { relaxed: false })` and
 * plain `JSON.parse` over the same lines. Each parser runs for at least `minMillis` after a
 * warm-up, so the JIT has settled and short inputs still give stable figures.
 *
 * @example
 * const lines = readFileSync('theaters.json', 'utf8').split('\n').filter(Boolean);
 * const { speedup } = benchEjsonParse(lines); // e.g. 4.8
 */
export function benchEjsonParse(lines: readonly string[], minMillis = 1000): EjsonParseBench {
  const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
  const measure = (parse: (line: string) => unknown): ParserFigures => {
    for (let warm = 0; warm < 3; warm++) for (const line of lines) parse(line);
    let rounds = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    do {
      for (const line of lines) parse(line);
      rounds++;
      elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    } while (elapsed < minMillis);
    const seconds = elapsed / 1000;
    return {
      docsPerSecond: (lines.length * rounds) / seconds,
      megabytesPerSecond: (bytes * rounds) / 1e6 / seconds,
    };
  };
  const fastPath = measure((line) => parseExtendedJson(line));
  const ejsonParse = measure((line) => EJSON.parse(line, { relaxed: false }));
  const jsonParse = measure((line) => JSON.parse(line));
  return {
    docs: lines.length,
    bytes,
    fastPath,
    ejsonParse,
    jsonParse,
    speedup: fastPath.docsPerSecond / ejsonParse.docsPerSecond,
  };
}

function defaultLines(): string[] {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/datasets');
  const files = ['sample_mflix/theaters.json', 'sample_mflix/users.json', 'sample_analytics/accounts.json'];
  return files.flatMap((file) =>
    readFileSync(path.join(root, file), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== ''),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const result = benchEjsonParse(defaultLines());
  const row = (name: string, f: ParserFigures) =>
    `${name.padEnd(22)} ${Math.round(f.docsPerSecond).toLocaleString('en').padStart(12)} docs/s ${f.megabytesPerSecond.toFixed(1).padStart(8)} MB/s`;
  console.log(`${result.docs} lines, ${(result.bytes / 1e6).toFixed(2)} MB`);
  console.log(row('fast path', result.fastPath));
  console.log(row('EJSON.parse', result.ejsonParse));
  console.log(row('JSON.parse', result.jsonParse));
  console.log(`fast path is ${result.speedup.toFixed(2)}x EJSON.parse`);
}
