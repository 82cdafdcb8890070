import type { Command } from 'commander';
import { ExitCode, FerryError } from '../../core/errors.js';
import { type CutoverReport, cutover } from '../../runtime/cutover/cutover.js';
import type { FlipReport } from '../../runtime/cutover/flip-phase.js';
import type { GateResult } from '../../runtime/cutover/gates.js';
import { isPhase, PHASES, type Phase } from '../../runtime/domains.js';
import { confirmDestructive } from '../confirm.js';
import { commandContext } from '../context.js';
import { openCutoverContext } from '../cutover-context.js';
import { emit } from '../output.js';

interface CutoverFlags {
  readonly to?: string;
  readonly reason?: string;
  readonly yes?: boolean;
  readonly force?: boolean;
  readonly source?: string;
  readonly schema?: string;
}

/**
 * `ferry cutover <domain> --to <phase>`: check the step's gates, print each with its figure
 * and threshold, and move the domain forward one phase when they pass (src/runtime/cutover).
 * Exit 1 when a gate fails (nothing changes); `--force --reason` overrides it, audited.
 */
export function registerCutover(program: Command): void {
  program
    .command('cutover')
    .description('move a domain forward one phase, when every gate of the step passes')
    .argument('<domain>', 'the domain, as declared under `domains` in ferry.config.ts')
    .requiredOption('--to <phase>', `the next phase: ${PHASES.join(', ')}`)
    .option('--reason <text>', 'why (kept in ferry.domain_events)')
    .option('--force', 'pass failing gates (needs --reason; audited)')
    .option('--yes', 'confirm without asking')
    .option(
      '--source <source>',
      'the live MongoDB primary (mongodb://host/database), for steps that move the primary',
    )
    .option('--schema <name>', 'target schema (default: the config’s first schema, else public)')
    .action(async (domain: string, flags: CutoverFlags, command: Command) => {
      const to = phaseFlag('--to', flags.to);
      const { out, config } = await commandContext(
        command,
        flags.source === undefined ? {} : { source: flags.source },
      );
      const opened = await openCutoverContext(config, 'cutover', flags.schema);
      try {
        const request = {
          ...(flags.reason !== undefined && { reason: flags.reason }),
          ...(flags.force === true && { force: true }),
        };
        const preview = await cutover(opened.context, domain, to, { ...request, dryRun: true });
        const failing = preview.gates.filter((g) => !g.ok);
        if (failing.length > 0 && flags.force !== true) {
          emit(out, preview, () => renderCutover(preview));
          out.error(`ferry: cutover refused: ${failing.map(gateLine).join('; ')}`);
          process.exitCode = ExitCode.problem;
          return;
        }
        if (!out.json) out.write(renderGates(preview));
        await confirmDestructive(
          out,
          `this moves domain "${domain}" from ${preview.from} to ${to}${failing.length > 0 ? `, overriding ${failing.map((g) => g.name).join(', ')}` : ''}`,
          'Cut over?',
          flags.yes === true,
        );
        const report = await cutover(opened.context, domain, to, request);
        if (!report.changed) {
          // A gate that passed a moment ago failed on the second look (the figures moved).
          emit(out, report, () => renderCutover(report));
          out.error(
            `ferry: cutover refused: ${report.gates
              .filter((g) => !g.ok)
              .map(gateLine)
              .join('; ')}`,
          );
          process.exitCode = ExitCode.problem;
          return;
        }
        emit(out, report, () => changedLine(report.from, report.to, report.flip, report.forced));
      } finally {
        await opened.close();
      }
    });
}

/**
 * A phase given on the command line, or a usage error listing the phases.
 *
 * @example
 * phaseFlag('--to', 'pg_read')   // 'pg_read'
 */
export function phaseFlag(flag: string, text: string | undefined): Phase {
  if (text !== undefined && isPhase(text)) return text;
  throw new FerryError(`${flag} takes a phase, not "${text ?? ''}"`, {
    code: 'RUNTIME_UNKNOWN_PHASE',
    category: 'usage',
    hint: `the phases are: ${PHASES.join(', ')}`,
  });
}

function renderCutover(report: CutoverReport): string {
  return `${renderGates(report)}\nnothing changed: domain "${report.domain}" stays in ${report.from}`;
}

function renderGates(report: CutoverReport): string {
  const lines = [`cutover ${report.domain}: ${report.from} → ${report.to}`];
  if (report.gates.length === 0) lines.push('  (no gate applies to this step)');
  const width = Math.max(0, ...report.gates.map((g) => g.name.length));
  for (const g of report.gates)
    lines.push(
      `  ${g.ok ? 'pass' : 'FAIL'}  ${g.name.padEnd(width)}  ${String(g.figure ?? '-').padStart(8)}  (threshold ${g.threshold})  ${g.detail}`,
    );
  return lines.join('\n');
}

function gateLine(g: GateResult): string {
  return `gate ${g.name} failed: figure ${g.figure ?? 'none'}, threshold ${g.threshold} (${g.detail})`;
}

/**
 * The line that says a phase changed, with the pause when it was a flip.
 *
 * @example
 * changedLine('pg_read', 'pg_primary', undefined, [])   // 'changed: pg_read → pg_primary'
 */
export function changedLine(
  from: Phase,
  to: Phase,
  flip: FlipReport | undefined,
  forced: readonly string[] = [],
): string {
  const parts = [`changed: ${from} → ${to}`];
  if (forced.length > 0) parts.push(`forced past: ${forced.join(', ')}`);
  if (flip !== undefined)
    parts.push(
      `writes paused ${flip.pauseMs} ms (${flip.waitMs} ms for writes in flight, ${flip.drainMs} ms draining: ${flip.gapsClosed} gaps closed, ${flip.eventsDelivered} outbox events delivered)`,
    );
  return parts.join('; ');
}
