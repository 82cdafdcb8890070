import type { Command } from 'commander';
import { type RuntimeStatus, readRuntimeStatus } from '../../runtime/runtime-status.js';
import { openTarget } from '../../target/open-target.js';
import type { Queryable } from '../../target/target-database.js';
import { lastVerifyRun, type VerifyRun } from '../../verify/verify-runs.js';
import { commandContext } from '../context.js';
import { emit, renderTable } from '../output.js';

interface LoadState {
  readonly schema: string;
  readonly collection: string;
  readonly read: number;
  readonly migrated: number;
  readonly rejected: number;
  readonly complete: boolean;
  readonly updatedAt: string;
}

interface Status {
  readonly target: string;
  readonly serverVersion: string;
  readonly ferryState: boolean;
  readonly collections: readonly LoadState[];
  readonly lastVerify?: VerifyRun;
  /** Domains, their phases, open gaps and the last sync (the runtime). */
  readonly runtime: RuntimeStatus;
}

/**
 * `ferry status`: what Ferry knows about the target — server, the load state of every
 * collection (from the checkpoints) and the last verification. Reads only; never sets up.
 */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the target database, the load state of every collection and the last verification')
    .action(async (_options, command: Command) => {
      const { out, config } = await commandContext(command);
      const db = await openTarget(config.target);
      let status: Status;
      try {
        status = await readStatus(db, db.location, {
          schema: config.schemas?.[0] ?? 'public',
          domains: config.domains ?? {},
        });
      } finally {
        await db.close();
      }
      emit(out, status, () => renderStatus(status));
    });
}

async function readStatus(
  db: Queryable,
  target: string,
  runtime: { schema: string; domains: NonNullable<Parameters<typeof readRuntimeStatus>[2]> },
): Promise<Status> {
  const { rows } = await db.query<{ version: string; has_state: boolean; has_checkpoints: boolean }>(
    `select current_setting('server_version') as version,
            exists (select 1 from pg_namespace where nspname = 'ferry') as has_state,
            to_regclass('ferry.checkpoints') is not null as has_checkpoints`,
  );
  const info = rows[0]!;
  const collections = info.has_checkpoints
    ? (
        await db.query<{
          schema: string;
          collection: string;
          read: string;
          migrated: string;
          rejected: string;
          complete: boolean;
          updated_at: string;
        }>(
          'select schema, collection, read::text, migrated::text, rejected::text, complete, updated_at::text from ferry.checkpoints order by schema, collection',
        )
      ).rows.map((r) => ({
        schema: r.schema,
        collection: r.collection,
        read: Number(r.read),
        migrated: Number(r.migrated),
        rejected: Number(r.rejected),
        complete: r.complete,
        updatedAt: r.updated_at,
      }))
    : [];
  const lastVerify = info.has_state ? await lastVerifyRun(db) : undefined;
  return {
    target,
    serverVersion: info.version,
    ferryState: info.has_state,
    collections,
    ...(lastVerify ? { lastVerify } : {}),
    runtime: await readRuntimeStatus(db, runtime.schema, runtime.domains),
  };
}

function renderStatus(status: Status): string {
  const lines = [
    `target:          ${status.target}`,
    `server version:  ${status.serverVersion}`,
    `ferry state:     ${status.ferryState ? 'present (schema "ferry")' : 'none yet'}`,
  ];
  if (status.collections.length > 0) {
    lines.push(
      '',
      renderTable(
        ['schema', 'collection', 'state', 'read', 'migrated', 'rejected', 'updated'],
        status.collections.map((c) => [
          c.schema,
          c.collection,
          c.complete ? 'loaded' : 'partial',
          c.read,
          c.migrated,
          c.rejected,
          c.updatedAt,
        ]),
      ),
    );
  }
  const run = status.lastVerify;
  if (run) {
    const verdict = run.finishedAt === null ? 'unfinished' : run.ok ? 'passed' : 'FAILED';
    lines.push(
      '',
      `last verify:     run ${run.id}, ${run.level} on schema ${run.schema}, ${verdict} (${run.finishedAt ?? run.startedAt})`,
    );
  } else {
    lines.push('', 'last verify:     never');
  }
  lines.push('', ...renderRuntime(status.runtime));
  return lines.join('\n');
}

function renderRuntime(runtime: RuntimeStatus): string[] {
  const lines: string[] = [];
  if (runtime.domains.length > 0) {
    lines.push(
      renderTable(
        ['domain', 'phase', 'collections', 'open gaps', 'oldest gap', 'phase since'],
        runtime.domains.map((d) => [
          d.name,
          d.registered ? d.phase : `${d.phase} (not registered yet)`,
          d.collections.join(', '),
          d.openGaps,
          d.oldestGapAgeSeconds === null ? '-' : `${d.oldestGapAgeSeconds} s`,
          d.changedAt ?? '-',
        ]),
      ),
      '',
    );
  } else {
    lines.push('domains:         none (declare `domains` in ferry.config.ts)');
  }
  const oldest = runtime.oldestGapAgeSeconds === null ? '' : `, oldest ${runtime.oldestGapAgeSeconds} s`;
  lines.push(`open gaps:       ${runtime.openGaps}${oldest}`);
  const sync = runtime.lastSync;
  lines.push(
    sync === null
      ? 'last sync:       never'
      : `last sync:       run ${sync.id}, ${sync.ok === true ? 'stores equal' : 'NOT equal'} (${sync.finishedAt ?? 'unfinished'})`,
  );
  return lines;
}
