import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Start the worker thread whose script is `name` beside the module at `callerUrl` (pass
 * `import.meta.url`): `<name>.js` in the built package, `<name>.ts` when Ferry runs from its
 * TypeScript sources (tests, benchmarks). There, on Node 20, neither `--import` in `execArgv`
 * nor ESM loader hooks registered inside a worker reach its imports, so the thread loads the
 * sources through tsx's CommonJS hook instead.
 *
 * @example
 * declare const plan: unknown;
 * const worker = startWorker(import.meta.url, 'encode-worker', { plan });
 * worker.on('message', (reply) => console.log(reply));
 */
export function startWorker(callerUrl: string, name: string, workerData: unknown): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const entry = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, callerUrl);
  if (!fromSource) return new Worker(entry, { workerData });
  const hook = createRequire(callerUrl).resolve('tsx/cjs');
  const bootstrap = `require(${JSON.stringify(hook)}); require(${JSON.stringify(fileURLToPath(entry))});`;
  return new Worker(bootstrap, { workerData, eval: true });
}
