import { existsSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { adminUrl, withClient } from './backfill-db.js';
import { salesInput } from './backfill-inputs.js';
import { runProcess } from './external-process.js';
import {
  type BenchReport,
  type BenchRow,
  benchRoot,
  machine,
  repoRoot,
  thousands,
  toRow,
  workDir,
} from './harness.js';

/** Pinned, so a rerun measures the same dlt: the version the issue's own figures came from. */
export const DLT_VERSION = '1.31.0';
const PYMONGO_VERSION = '4.15.5';

type DltMode = 'tuned' | 'defaults';

interface DltResult {
  readonly seconds: number;
  readonly docs: number;
  readonly tables: readonly string[];
  readonly priceType: string;
  readonly priceExact: boolean;
  readonly arrayOrderKept: boolean;
}

/**
 * Ferry against dlt on the same 200k replicated sales, into the same PostgreSQL, one load at
 * a time, each into an empty database of its own: `ferry migrate --verify none` end to end
 * (inference, schema, backfill, after-load DDL) through the real CLI, then dlt 1.31 in a
 * throwaway virtual environment, tuned (csv, two normalize workers, 25k-item files, no
 * compression) and at its defaults. Without python3, venv or PyPI the dlt rows say why.
 */
export async function benchDlt(salesArchive: string, docs: number): Promise<BenchReport> {
  const loadAtStart = loadavg().map((l) => l.toFixed(2));
  const input = await salesInput(salesArchive, docs);
  const bytes = (await stat(input.archive)).size;
  const tag = `sales ${thousands(docs)}`;

  console.error(`bench: ferry migrate --verify none (${tag})…`);
  const ferry = await inEmptyDatabase('dlt_ferry', (url) => ferryMigrate(input.archive, url, docs));
  const ferryName = `(m) ferry migrate --verify none, end to end (${tag})`;
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const python = await ensureDlt();
  if ('skip' in python) {
    rows.push(toRow(ferryName, { docs, bytes, seconds: ferry.seconds, maxRssMb: ferry.maxRssMb }));
    for (const mode of ['tuned', 'defaults'] as const)
      rows.push(skippedRow(`dlt ${DLT_VERSION}, ${mode}: skipped, ${python.skip}`));
    notes.push(`dlt was not measured: ${python.skip}.`);
  } else {
    const measured = new Map<DltMode, { result: DltResult; maxRssMb: number }>();
    for (const mode of ['tuned', 'defaults'] as const) {
      console.error(`bench: dlt ${DLT_VERSION} ${mode} (${tag})…`);
      measured.set(
        mode,
        await inEmptyDatabase(`dlt_${mode}`, (url) => runDlt(python.python, input.archive, mode, url, docs)),
      );
    }
    const tuned = measured.get('tuned')!;
    const defaults = measured.get('defaults')!;
    const asCase = (m: { result: DltResult; maxRssMb: number }) => ({
      docs,
      bytes,
      seconds: m.result.seconds,
      maxRssMb: m.maxRssMb,
    });
    const ferryCase = { docs, bytes, seconds: ferry.seconds, maxRssMb: ferry.maxRssMb };
    rows.push(
      toRow(
        ferryName,
        ferryCase,
        { name: 't', result: asCase(tuned) },
        { name: 'd', result: asCase(defaults) },
      ),
      toRow(
        `(t) dlt ${DLT_VERSION} tuned: csv, 2 normalize workers, 25k-item files, no compression (${tag})`,
        asCase(tuned),
      ),
      toRow(`(d) dlt ${DLT_VERSION} at its defaults (${tag})`, asCase(defaults)),
    );
    const ratio = (of: DltResult) => Math.round((of.seconds / ferry.seconds) * 10) / 10;
    notes.push(
      `${tag}: Ferry's migrate end to end against the best-tuned dlt: **${ratio(tuned.result)} ×** in docs/s (goal ≥ 7 ×); against dlt at its defaults: ${ratio(defaults.result)} ×.`,
      ...[tuned, defaults].map(
        (m, i) =>
          `What dlt ${i === 0 ? 'tuned' : 'at its defaults'} made of the sales: tables ${m.result.tables.join(', ')}; Decimal128 \`items.price\` became **${m.result.priceType}** (the verified MongoDB source hands dlt Decimal128 as str, so it is text, no longer a number${m.result.priceExact ? ', its digits kept' : ', and its digits changed'}); array order ${m.result.arrayOrderKept ? 'kept, as a `_dlt_list_idx` column of the child table (items in source order for every document)' : 'NOT kept'}. Ferry maps the price to numeric with the decimal's own digits and keeps order in an ordinal column; its deep verify proves both.`,
      ),
    );
  }
  notes.push(
    `Load average (1, 5, 15 min) at the start: ${loadAtStart.join(', ')}; at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}. The machine is shared with other work, so compare the ratios, which are from one run.`,
  );
  return {
    name: 'dlt',
    title: 'Ferry migrate beside dlt',
    description: [
      `The ${thousands(docs)} real sales replicated (bench/sales-replica.ts) as one uncompressed mongodump archive, loaded into the same local test PostgreSQL, one load at a time, each into an empty database of its own.`,
      '(m) `ferry migrate <archive> --verify none --json` through the built CLI, end to end: it infers the mapping, writes the config and the migrations, creates the tables, backfills and finishes indexes; timed from process start to exit.',
      `(t) and (d): dlt ${DLT_VERSION} with the postgres extra and pymongo ${PYMONGO_VERSION}, pinned, installed from PyPI into a throwaway virtual environment under bench/work (bench/dlt/load_sales.py): the same archive read with pymongo's bson, values converted as dlt's MongoDB verified source converts them, one \`pipeline.run\`, timed around that call only (Python start-up and the inspection afterwards are not in it). (t) tuned as dlt's performance guide says: \`loader_file_format="csv"\` (COPY), \`NORMALIZE__WORKERS=2\`, \`DATA_WRITER__FILE_MAX_ITEMS=25000\` and \`BUFFER_MAX_ITEMS=25000\`, \`DATA_WRITER__DISABLE_COMPRESSION\`; (d) nothing set.`,
      "Peak RSS is the largest process of the run (GNU time `%M`; for dlt that includes its normalize worker processes). MB/s counts the archive's bytes. Ratio: (m) in docs/s over (t) and (d).",
    ].join(' '),
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows,
    notes,
  };
}

/** The whole CLI, as a user runs it, in a fresh folder (it writes ferry.config.ts and migrations/ there). */
async function ferryMigrate(
  archive: string,
  url: string,
  docs: number,
): Promise<{ seconds: number; maxRssMb: number }> {
  const cwd = path.join(workDir, `dlt-ferry-migrate-${process.pid}`);
  await rm(cwd, { recursive: true, force: true });
  await mkdir(cwd, { recursive: true });
  try {
    const run = await runProcess(
      process.execPath,
      [path.join(repoRoot, 'bin/ferry.js'), 'migrate', archive, '--verify', 'none', '--json'],
      {
        cwd,
        env: { ...process.env, DATABASE_URL: url },
      },
    );
    if (run.code !== 0) throw new Error(`ferry migrate exited ${run.code}: ${run.stderr.slice(-2000)}`);
    const result = JSON.parse(run.stdout) as {
      ok: boolean;
      backfill: { collections: { migrated: number }[] };
    };
    const migrated = result.backfill.collections.reduce((n, c) => n + c.migrated, 0);
    if (!result.ok || migrated !== docs)
      throw new Error(`ferry migrate loaded ${migrated} of ${docs} documents`);
    return { seconds: run.seconds, maxRssMb: run.maxRssMb ?? 0 };
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

async function runDlt(
  python: string,
  archive: string,
  mode: DltMode,
  url: string,
  docs: number,
): Promise<{ result: DltResult; maxRssMb: number }> {
  const work = path.join(workDir, `dlt-${mode}-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const run = await runProcess(python, [path.join(benchRoot, 'dlt/load_sales.py'), archive, mode, work], {
      cwd: work,
      env: { ...process.env, DESTINATION__POSTGRES__CREDENTIALS: url },
    });
    if (run.code !== 0) throw new Error(`dlt ${mode} exited ${run.code}: ${run.stderr.slice(-2000)}`);
    const result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as DltResult;
    if (result.docs !== docs) throw new Error(`dlt ${mode} loaded ${result.docs} of ${docs} documents`);
    return { result, maxRssMb: run.maxRssMb ?? 0 };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * A virtual environment with the pinned dlt, made once under bench/work (git-ignored) and
 * reused while it holds that version; or why there cannot be one here.
 */
async function ensureDlt(): Promise<{ python: string } | { skip: string }> {
  const venv = path.join(workDir, `dlt-venv-${DLT_VERSION}`);
  const python = path.join(venv, 'bin/python');
  const quiet = { cwd: workDir, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' } };
  if (existsSync(python)) {
    const check = await runProcess(python, ['-c', 'import dlt, bson; print(dlt.__version__)'], quiet);
    if (check.code === 0 && check.stdout.trim() === DLT_VERSION) return { python };
  }
  await mkdir(workDir, { recursive: true });
  const found = await runProcess('python3', ['--version'], quiet).catch(() => undefined);
  if (found?.code !== 0) return { skip: 'no python3 on this machine' };
  console.error(`bench: creating a virtual environment with dlt ${DLT_VERSION} (from PyPI)…`);
  await rm(venv, { recursive: true, force: true });
  const created = await runProcess('python3', ['-m', 'venv', venv], quiet);
  if (created.code !== 0) return { skip: `python3 -m venv failed (${lastLine(created.stderr)})` };
  const installed = await runProcess(
    path.join(venv, 'bin/pip'),
    ['install', '--quiet', `dlt[postgres]==${DLT_VERSION}`, `pymongo==${PYMONGO_VERSION}`],
    quiet,
  );
  if (installed.code !== 0)
    return { skip: `installing dlt from PyPI failed (${lastLine(installed.stderr)})` };
  return { python };
}

async function inEmptyDatabase<T>(label: string, fn: (url: string) => Promise<T>): Promise<T> {
  const admin = adminUrl();
  const name = `bench_${label}_${process.pid}`;
  await withClient(admin, async (c) => {
    await c.query(`drop database if exists "${name}" with (force)`);
    await c.query(`create database "${name}"`);
  });
  const url = new URL(admin);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await withClient(admin, (c) => c.query(`drop database if exists "${name}" with (force)`));
  }
}

function skippedRow(name: string): BenchRow {
  return { case: name, docsPerSecond: 0, mbPerSecond: 0, peakRssMb: 0, docs: 0, seconds: 0 };
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.slice(0, 200) ?? 'no output';
}
