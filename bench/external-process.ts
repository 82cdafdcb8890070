import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** What one external process did: its exit, output, wall time and peak RSS. */
export interface ProcessRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  /** Peak RSS of the largest process of the run (GNU time's %M); undefined without /usr/bin/time. */
  readonly maxRssMb?: number;
}

const GNU_TIME = '/usr/bin/time';
const RSS_MARK = 'ferry-bench-max-rss-kb=';

/**
 * Run a command to its end, timed from spawn to exit, with its peak RSS measured by GNU time
 * where the machine has it (the command and its children: a Python loader's worker processes
 * count, the largest one is what `%M` reports). Secrets go in `env`, never in `args`, so they
 * stay out of process lists and of any error message.
 *
 * @example
 * const run = await runProcess('python3', ['--version'], { cwd: '.', env: process.env });
 * console.log(run.code, run.seconds, run.maxRssMb);
 */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv },
): Promise<ProcessRun> {
  const timed = existsSync(GNU_TIME);
  const [file, argv] = timed ? [GNU_TIME, ['-f', `${RSS_MARK}%M`, command, ...args]] : [command, [...args]];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      const mark = stderr.lastIndexOf(RSS_MARK);
      const maxRssKb = mark >= 0 ? Number.parseInt(stderr.slice(mark + RSS_MARK.length), 10) : Number.NaN;
      resolve({
        code,
        stdout,
        stderr: mark >= 0 ? stderr.slice(0, mark) : stderr,
        seconds,
        ...(Number.isFinite(maxRssKb) && { maxRssMb: Math.round(maxRssKb / 1024) }),
      });
    });
  });
}
