import { Command, CommanderError } from 'commander';
import { asFerryError, ExitCode, FerryError } from '../core/errors.js';
import { redactSecrets } from '../core/redact.js';
import { dashboardServePlugin } from '../serve/dashboard/serve-plugin.js';
import { registerBackfill } from './commands/backfill.js';
import { registerCutover } from './commands/cutover.js';
import { registerDemo } from './commands/demo.js';
import { registerExport } from './commands/export.js';
import { registerInfer } from './commands/infer.js';
import { registerInspect } from './commands/inspect.js';
import { registerMigrate } from './commands/migrate.js';
import { registerOutbox } from './commands/outbox.js';
import { registerPlan } from './commands/plan.js';
import { registerReconcile } from './commands/reconcile.js';
import { registerRejects } from './commands/rejects.js';
import { registerRollback } from './commands/rollback.js';
import { registerSchema } from './commands/schema.js';
import { registerServe } from './commands/serve.js';
import { registerSql } from './commands/sql.js';
import { registerStatus } from './commands/status.js';
import { registerSync } from './commands/sync.js';
import { registerTtl } from './commands/ttl.js';
import { registerVerify } from './commands/verify.js';

const VERSION = '0.1.0';

/** The `ferry` command tree. Each command lives in `commands/` and registers itself here. */
export function buildProgram(): Command {
  const program = new Command('ferry')
    .description('Move an application from MongoDB or JSON files to PostgreSQL, and prove nothing was lost.')
    .version(VERSION)
    .option('--json', 'machine-readable output')
    .option('--config <file>', 'config file (default: ./ferry.config.ts)')
    .option('--target <url>', 'PostgreSQL URL (default: DATABASE_URL, else embedded PGlite in ./.ferry)')
    .option('--log-level <level>', 'trace|debug|info|warn|error|silent')
    .showHelpAfterError()
    .exitOverride();
  registerBackfill(program);
  registerCutover(program);
  registerDemo(program);
  registerExport(program);
  registerInfer(program);
  registerInspect(program);
  registerMigrate(program);
  registerOutbox(program);
  registerPlan(program);
  registerReconcile(program);
  registerRejects(program);
  registerRollback(program);
  registerSchema(program);
  registerServe(program, [dashboardServePlugin]);
  registerSql(program);
  registerStatus(program);
  registerSync(program);
  registerTtl(program);
  registerVerify(program);
  return program;
}

/**
 * Run the CLI and return its exit code. Every failure ends here: a FerryError prints one
 * line (its message is already redacted) and maps to the documented exit code.
 */
export async function runCli(argv: readonly string[], program = buildProgram()): Promise<number> {
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return Number(process.exitCode ?? ExitCode.ok);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; real usage errors were already printed.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const ferryError = error instanceof FerryError ? error : asFerryError(error);
    const json = program.opts<{ json?: boolean }>().json === true;
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ error: { code: ferryError.code, message: ferryError.message, where: ferryError.where } })}\n`,
      );
    }
    process.stderr.write(`ferry: ${ferryError.message}\n`);
    if (ferryError.category === 'internal' && error instanceof Error && error.stack) {
      process.stderr.write(`${redactSecrets(error.stack)}\n`);
    }
    return ferryError.exitCode;
  }
}
