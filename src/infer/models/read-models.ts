import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FerryError } from '../../core/errors.js';
import { fileExists } from '../../core/file-exists.js';
import { redactSecrets } from '../../core/redact.js';
import type { ModelReaderReply, ModelSchemas } from './model-schema.js';

/**
 * How `readModels` runs the child process.
 *
 * @example
 * await readModels('src/models', { timeoutMs: 10_000 });
 */
export interface ReadModelsOptions {
  /** Give up on modules that take longer than this to import (default 60 s). */
  readonly timeoutMs?: number;
}

/**
 * Read the Mongoose schemas an application's model modules register, without running them in
 * Ferry's process: a child process imports the modules (TypeScript too, through jiti), takes
 * `mongoose.modelNames()` from the mongoose the models' folder resolves, and sends back their
 * schemas as JSON. `target` is a module file or a folder (its `index` module when it has one,
 * else every module in it).
 *
 * Errors: a module that throws names its file (`INFER_MODELS_IMPORT_FAILED`); no mongoose,
 * no model, no module or a missing path are usage errors too; all exit 2.
 *
 * @example
 * const models = await readModels('examples/escrow/models');
 * models.models.find((m) => m.name === 'Wallet')?.collection; // 'wallets'
 */
export async function readModels(target: string, options: ReadModelsOptions = {}): Promise<ModelSchemas> {
  const absolute = path.resolve(target);
  if (!(await fileExists(absolute)))
    throw new FerryError(`--models ${target}: no such file or folder`, {
      code: 'INFER_MODELS_NOT_FOUND',
      category: 'usage',
      hint: 'pass the folder of your Mongoose models, or the module that imports them all',
    });
  const reply = await runChild(absolute, options.timeoutMs ?? 60_000);
  if (reply.ok) return reply.schemas;
  switch (reply.problem) {
    case 'import-failed':
      // The module's own message, but never a credential in it (a connection string, say).
      throw new FerryError(`cannot import model module ${reply.file}: ${redactSecrets(reply.message)}`, {
        code: 'INFER_MODELS_IMPORT_FAILED',
        category: 'usage',
        where: { file: reply.file! },
        hint: 'fix the module so that importing it on its own succeeds (it runs in a child process, with your environment)',
      });
    case 'no-mongoose':
      throw new FerryError(
        `the models in ${target} cannot resolve mongoose: ${redactSecrets(reply.message)}`,
        {
          code: 'INFER_MODELS_NO_MONGOOSE',
          category: 'usage',
          hint: 'install mongoose in your application, where the models are',
        },
      );
    case 'no-models':
    case 'no-files':
      throw new FerryError(`${target} registers no Mongoose model: ${redactSecrets(reply.message)}`, {
        code: 'INFER_MODELS_NONE',
        category: 'usage',
        hint: 'pass the folder whose modules call mongoose.model(…), or the module that imports them',
      });
  }
}

// The child is compiled by jiti in both layouts (.ts from source, .js when built), so one
// bootstrap runs it; it avoids top-level await, so jiti's CommonJS transform takes it as is.
const CHILD = fileURLToPath(
  new URL(`./models-child${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);
const BOOTSTRAP = `
const [jitiUrl, child, target] = process.argv.slice(1);
const { createJiti } = await import(jitiUrl);
const jiti = createJiti(child, { fsCache: false, interopDefault: true });
const { main } = await jiti.import(child);
await main(target);
`;

function runChild(target: string, timeoutMs: number): Promise<ModelReaderReply> {
  const jitiUrl = pathToFileURL(createRequire(import.meta.url).resolve('jiti')).href;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', BOOTSTRAP, jitiUrl, CHILD, target], {
      // The user's modules may log; what they print is shown only if they fail.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let reply: ModelReaderReply | undefined;
    child.on('message', (message) => {
      reply = message as ModelReaderReply;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new FerryError(`importing the models in ${target} took longer than ${timeoutMs / 1000} s`, {
          code: 'INFER_MODELS_TIMEOUT',
          category: 'usage',
          hint: 'a model module waits at import (a connection, a prompt?); import the models without side effects',
        }),
      );
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (reply) return resolve(reply);
      reject(
        new FerryError(
          `the process importing the models in ${target} ended without an answer (${signal ?? `exit ${code}`})${output.trim() ? `: ${redactSecrets(lastLine(output))}` : ''}`,
          {
            code: 'INFER_MODELS_IMPORT_FAILED',
            category: 'usage',
            where: { file: target },
            hint: 'a model module ended the process (process.exit?) or crashed it; import the models on their own to see why',
          },
        ),
      );
    });
  });
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}
