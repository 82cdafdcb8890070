import type { Command } from 'commander';
import { ExitCode } from '../../core/errors.js';
import { rollback } from '../../runtime/cutover/cutover.js';
import { type DrillVerify, drillFailed, rollbackDrill } from '../../runtime/cutover/rollback-drill.js';
import { settleable, settleDifferences } from '../../runtime/cutover/settle-differences.js';
import type { RuntimeStores } from '../../runtime/entity-copy.js';
import { openSource } from '../../sources/open.js';
import { openTarget } from '../../target/open-target.js';
import { verify } from '../../verify/verify.js';
import { confirmDestructive } from '../confirm.js';
import { commandContext } from '../context.js';
import { openCutoverContext } from '../cutover-context.js';
import { emit } from '../output.js';
import { changedLine, phaseFlag } from './cutover.js';

interface RollbackFlags {
  readonly to?: string;
  readonly drill?: boolean;
  readonly reason?: string;
  readonly yes?: boolean;
  readonly source?: string;
  readonly schema?: string;
}

/** Verify attempts after a drill, when a difference is more than a write in flight. */
const VERIFY_ATTEMPTS = 3;

/** How long the entities a verify found different may take to be equal once (writes in flight). */
const SETTLE_TIMEOUT_MS = 10_000;

/**
 * How long entities the outbox has yet to deliver are waited for while it keeps delivering
 * (`settleDifferences`): a drill right after an outage, or on a loaded machine, finds it behind.
 */
const SETTLE_OUTBOX_TIMEOUT_MS = 120_000;

/**
 * `ferry rollback <domain> [--to <phase>]`: step back to an earlier phase whose other store is
 * still complete (refused from pg_only). `--drill`: back one phase and forward again, then a
 * deep verify of the domain's collections; the result is recorded for the cutover gate.
 */
export function registerRollback(program: Command): void {
  program
    .command('rollback')
    .description('step a domain back to an earlier phase; --drill rehearses it (back, forward, verify)')
    .argument('<domain>', 'the domain, as declared under `domains` in ferry.config.ts')
    .option('--to <phase>', 'the phase to step back to (default: the one before the current one)')
    .option('--drill', 'step back one phase and forward again, verify, and record the result')
    .option('--reason <text>', 'why (kept in ferry.domain_events)')
    .option('--yes', 'confirm without asking')
    .option('--source <source>', 'the live MongoDB primary (mongodb://host/database)')
    .option('--schema <name>', 'target schema (default: the config’s first schema, else public)')
    .action(async (domain: string, flags: RollbackFlags, command: Command) => {
      const to = flags.to === undefined ? undefined : phaseFlag('--to', flags.to);
      const { out, config } = await commandContext(
        command,
        flags.source === undefined ? {} : { source: flags.source },
      );
      const opened = await openCutoverContext(config, 'rollback', flags.schema);
      try {
        const request = { ...(flags.reason !== undefined && { reason: flags.reason }) };
        if (flags.drill === true) {
          await confirmDestructive(
            out,
            `the drill moves domain "${domain}" back one phase and forward again, under traffic`,
            'Run the drill?',
            flags.yes === true,
          );
          const stores = opened.context.stores;
          const check: DrillVerify =
            stores === undefined || opened.sourceUri === undefined
              ? async () => ({ ok: false, detail: 'no live MongoDB to verify against (--source)' })
              : deepVerify(stores, opened.sourceUri, opened.targetUrl);
          const drill = await rollbackDrill(opened.context, domain, check, request);
          emit(out, drill, () =>
            [
              `rollback drill ${domain}: ${drill.phase} → ${drill.backTo} → ${drill.phase}: ${drill.ok ? 'passed' : 'FAILED'}`,
              ...(drill.back ? [`  back:    writes paused ${drill.back.pauseMs} ms`] : []),
              ...(drill.forward ? [`  forward: writes paused ${drill.forward.pauseMs} ms`] : []),
              ...(drill.verify !== undefined ? [`  verify:  ${drill.verify}`] : []),
            ].join('\n'),
          );
          if (!drill.ok) {
            out.error(`ferry: ${drillFailed(drill).message}`);
            process.exitCode = ExitCode.problem;
          }
          return;
        }
        await confirmDestructive(
          out,
          `this moves domain "${domain}" back${to === undefined ? ' one phase' : ` to ${to}`}`,
          'Roll back?',
          flags.yes === true,
        );
        const report = await rollback(opened.context, domain, {
          ...request,
          ...(to !== undefined && { to }),
        });
        emit(out, report, () => changedLine(report.from, report.to, report.flip));
      } finally {
        await opened.close();
      }
    });
}

/**
 * A deep verify of the domain's collections, recorded (so the verify gate sees it too). Under
 * traffic the entities written while it compared differ; those are compared again until each
 * was equal once, or was delivered by the outbox while it differed (`settleDifferences`), and
 * only what stays different fails the drill.
 */
function deepVerify(stores: RuntimeStores, sourceUri: string, targetUrl: string): DrillVerify {
  return async (collections) => {
    let detail = '';
    for (let attempt = 1; attempt <= VERIFY_ATTEMPTS; attempt++) {
      const source = await openSource(sourceUri);
      const db = await openTarget(targetUrl);
      try {
        const result = await verify({
          source,
          db,
          plan: stores.plan,
          schema: stores.schema,
          only: collections,
          level: 'deep',
          targetUrl,
        });
        const differing = result.collections.filter((c) => !c.ok);
        const matched = `${result.collections.reduce((n, c) => n + c.matched, 0)} documents matched in ${collections.length} collections`;
        detail = result.ok
          ? `deep verify clean: ${matched}`
          : `deep verify found differences in ${differing.map((c) => `${c.collection} (${c.missing} missing, ${c.extra} extra, ${c.content} changed)`).join(', ')}`;
        if (result.ok) return { ok: true, detail };
        if (settleable(result)) {
          const { settled, delivered, unsettled } = await settleDifferences(stores, db, result, {
            timeoutMs: SETTLE_TIMEOUT_MS,
            outboxTimeoutMs: SETTLE_OUTBOX_TIMEOUT_MS,
          });
          if (unsettled.length === 0)
            return {
              ok: true,
              detail: `deep verify: ${matched}; ${settled} written while it compared were equal in both stores on a second look${delivered > 0 ? ` (${delivered} of them by an outbox delivery made while they differed)` : ''}`,
            };
          detail += `; still different after ${SETTLE_TIMEOUT_MS / 1000} s (${SETTLE_OUTBOX_TIMEOUT_MS / 1000} s for entities the outbox was still delivering): ${unsettled.slice(0, 10).join(', ')}`;
        }
      } finally {
        await source.close();
        await db.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    return { ok: false, detail };
  };
}
