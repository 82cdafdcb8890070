import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './services.js';

// Resolved from the repo, not the child's cwd: tests run the CLI inside temporary folders.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run the real `ferry` CLI from source in a child process, as a user would, so exit codes,
 * stdout and stderr are the ones a shell sees.
 */
export function runFerry(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<CliResult> {
  const entry = path.join(repoRoot, 'src/cli/main.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, entry, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Start the real `ferry` CLI in a child process and return it at once, for tests that kill
 * it part-way (`kill -9`) and so cannot wait for its output, or that talk to a server it
 * runs (`pipe: true` keeps its stdout and stderr readable).
 */
export function spawnFerry(
  args: readonly string[],
  cwd: string,
  options: { env?: NodeJS.ProcessEnv; pipe?: boolean } = {},
): ChildProcess {
  return spawnScript(path.join(repoRoot, 'src/cli/main.ts'), args, cwd, options);
}

/**
 * Start a TypeScript script of the repo in a child process, as `spawnFerry` starts the CLI:
 * for tests that need an application instance (a writer through the runtime) in a process
 * of its own.
 */
export function spawnScript(
  script: string,
  args: readonly string[],
  cwd: string,
  options: { env?: NodeJS.ProcessEnv; pipe?: boolean } = {},
): ChildProcess {
  return spawn(process.execPath, ['--import', tsxLoader, script, ...args], {
    cwd,
    env: { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0', ...options.env },
    stdio: options.pipe === true ? ['ignore', 'pipe', 'pipe'] : 'ignore',
  });
}
