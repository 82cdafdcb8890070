import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const benchRoot = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(benchRoot, '..');
/** Generated inputs live here (git-ignored): they are large and reproducible from the seed. */
export const workDir = path.join(benchRoot, 'work');

/** What one measured case reports; printed as the last stdout line of its child process. */
export interface CaseResult {
  readonly docs: number;
  /** Rows written, all tables, for cases that write to a database. */
  readonly rows?: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly maxRssMb: number;
  readonly extra?: Record<string, number | string>;
}

export interface BenchRow {
  readonly case: string;
  readonly docsPerSecond: number;
  readonly rowsPerSecond?: number;
  readonly mbPerSecond: number;
  readonly peakRssMb: number;
  /** This case's throughput divided by the named baseline's, measured in the same run. */
  readonly ratio?: { readonly to: string; readonly value: number };
  /** More ratios of the same throughput against other cases of the run. */
  readonly moreRatios?: readonly { readonly to: string; readonly value: number }[];
  readonly docs: number;
  readonly seconds: number;
}

export interface BenchReport {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly ranAt: string;
  readonly machine: { cpus: number; cpuModel: string; memoryGb: number; node: string };
  readonly rows: readonly BenchRow[];
  readonly notes?: readonly string[];
}

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Run one case in a fresh Node process, so its peak RSS is its own and one case's heap
 * cannot slow the next. The child prints a CaseResult as its last line.
 */
export function runCase(script: string, args: readonly string[]): Promise<CaseResult> {
  return startCase(script, args).result;
}

/** A case running in its own process, for benchmarks that act on the world while it runs. */
export interface RunningCase {
  /** Resolves once the child printed the line `ready` (see `caseReady`). */
  readonly ready: Promise<void>;
  /** Ask the child to finish (SIGTERM): it stops its load, settles, and reports. */
  stop(): void;
  readonly result: Promise<CaseResult>;
}

/**
 * `runCase`, returned at once: the caller can wait until the child is ready, do its part of
 * the benchmark meanwhile (a flip, a failure), then stop it and take its result.
 *
 * @example
 * const writer = startCase('cases/flip-pause.ts', ['mongodb://…/db', 'plan.json']);
 * await writer.ready;
 * writer.stop();
 * const run = await writer.result;
 */
export function startCase(script: string, args: readonly string[]): RunningCase {
  const child = spawn(process.execPath, ['--import', tsxLoader, path.join(benchRoot, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  let markReady: () => void = () => {};
  let failReady: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  const result = new Promise<CaseResult>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.startsWith(`${READY_LINE}\n`)) markReady();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${script} ${args.join(' ')} exited ${code}`));
      try {
        resolve(JSON.parse(last) as CaseResult);
      } catch {
        reject(new Error(`${script} printed no result: ${stdout.slice(-500)}`));
      }
    });
  });
  // A child that ends before it was ready fails `ready` too, so a caller waiting on it moves on.
  result.then(
    () => failReady(new Error(`${script} ended before it was ready`)),
    (error: Error) => failReady(error),
  );
  ready.catch(() => {});
  return { ready, stop: () => child.kill('SIGTERM'), result };
}

const READY_LINE = 'ready';

/** Inside a case's process: tell the parent (`startCase`) that the case is under way. */
export function caseReady(): void {
  process.stdout.write(`${READY_LINE}\n`);
}

/** Print a case's result from inside the child process. */
export function reportCase(result: Omit<CaseResult, 'maxRssMb'>): void {
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`${JSON.stringify({ ...result, maxRssMb })}\n`);
}

export function toRow(
  name: string,
  result: CaseResult,
  baseline?: { name: string; result: CaseResult },
  ...others: { name: string; result: CaseResult }[]
): BenchRow {
  const docsPerSecond = result.docs / result.seconds;
  const ratioTo = (other: { name: string; result: CaseResult }) => ({
    to: other.name,
    value: Math.round((docsPerSecond / (other.result.docs / other.result.seconds)) * 100) / 100,
  });
  return {
    case: name,
    docsPerSecond: Math.round(docsPerSecond),
    ...(result.rows !== undefined && { rowsPerSecond: Math.round(result.rows / result.seconds) }),
    mbPerSecond: Math.round((result.bytes / 1e6 / result.seconds) * 10) / 10,
    peakRssMb: result.maxRssMb,
    docs: result.docs,
    seconds: Math.round(result.seconds * 100) / 100,
    ...(baseline && { ratio: ratioTo(baseline) }),
    ...(others.length > 0 && { moreRatios: others.map(ratioTo) }),
  };
}

/** A document count as the case names show it: `50k`, `1M`. */
export function thousands(n: number): string {
  return n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
}

export function machine(): BenchReport['machine'] {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** Write bench/results/<name>.json and regenerate docs/benchmarks.md from every result file. */
export async function saveReport(report: BenchReport): Promise<void> {
  const resultsDir = path.join(benchRoot, 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(path.join(resultsDir, `${report.name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const reports: BenchReport[] = [];
  for (const file of (await readdir(resultsDir)).filter((f) => f.endsWith('.json')).sort()) {
    reports.push(JSON.parse(await readFile(path.join(resultsDir, file), 'utf8')) as BenchReport);
  }
  await writeFile(path.join(repoRoot, 'docs/benchmarks.md'), renderMarkdown(reports));
}

function renderMarkdown(reports: readonly BenchReport[]): string {
  const sections = reports.map((r) => {
    // A rows/s column only for benchmarks that write rows, so the others stay as they were.
    const withRows = r.rows.some((row) => row.rowsPerSecond !== undefined);
    const header = withRows
      ? '| case | docs/s | rows/s | MB/s | ratio | peak RSS MB | docs | seconds |\n|---|---:|---:|---:|---|---:|---:|---:|'
      : '| case | docs/s | MB/s | ratio | peak RSS MB | docs | seconds |\n|---|---:|---:|---|---:|---:|---:|';
    const rows = r.rows.map(
      (row) =>
        `| ${row.case} | ${row.docsPerSecond.toLocaleString('en-US')} |${
          withRows ? ` ${row.rowsPerSecond?.toLocaleString('en-US') ?? ''} |` : ''
        } ${row.mbPerSecond} | ${
          row.ratio
            ? [row.ratio, ...(row.moreRatios ?? [])].map((q) => `${q.value} × ${q.to}`).join('; ')
            : 'baseline'
        } | ${row.peakRssMb} | ${row.docs.toLocaleString('en-US')} | ${row.seconds} |`,
    );
    const notes = (r.notes ?? []).map((n) => `- ${n}`).join('\n');
    return [
      `## ${r.title}`,
      '',
      r.description,
      '',
      `Ran ${r.ranAt} on ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGb} GB, Node ${r.machine.node}.`,
      '',
      header,
      ...rows,
      notes && `\n${notes}`,
    ].join('\n');
  });
  return [
    '# Benchmarks',
    '',
    'Generated by `npm run bench` from `bench/results/*.json`; do not edit by hand. Every ratio',
    'compares two cases measured in the same run on the same input. Each case runs in its own',
    'process, so peak RSS is that case alone.',
    '',
    sections.join('\n\n'),
    '',
  ].join('\n');
}
