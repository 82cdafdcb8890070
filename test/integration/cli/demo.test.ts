import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';

interface DemoJson {
  ok: boolean;
  archive: string;
  generated: boolean;
  backfill: {
    wroteNothing: boolean;
    collections: { collection: string; read: number; migrated: number; rejected: number }[];
  };
}

describe('ferry demo', () => {
  it('generates the marketplace archive, migrates it into embedded PostgreSQL with nothing lost and verified, reruns idempotently, and status shows it', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-demo-'));
    const env = { DATABASE_URL: '' };
    const first = await runFerry(['demo', '--scale', '3000', '--json'], { cwd, env });
    expect(first.code, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout) as DemoJson;
    expect(result.generated).toBe(true);
    expect(existsSync(path.join(cwd, result.archive))).toBe(true);
    expect(existsSync(path.join(cwd, '.ferry', 'demo', 'ferry.config.ts'))).toBe(true);
    const names = result.backfill.collections.map((c) => c.collection).sort();
    expect(names).toEqual(['chats', 'ledger', 'notifications', 'payments', 'purchaseRequests', 'users']);
    const read = result.backfill.collections.reduce((sum, c) => sum + c.read, 0);
    expect(read).toBe(3000);
    for (const c of result.backfill.collections) expect(c.migrated + c.rejected).toBe(c.read);
    expect(result.backfill.collections.every((c) => c.rejected === 0)).toBe(true);

    const second = await runFerry(['demo', '--scale', '3000', '--json'], { cwd, env });
    expect(second.code, second.stderr).toBe(0);
    const again = JSON.parse(second.stdout) as DemoJson;
    expect(again.generated).toBe(false);
    expect(again.backfill.wroteNothing).toBe(true);

    // ferry status reads the same embedded target: every collection loaded, and verified.
    const status = await runFerry(['status', '--json'], { cwd, env });
    expect(status.code, status.stderr).toBe(0);
    const state = JSON.parse(status.stdout) as {
      collections: { collection: string; complete: boolean; read: number }[];
      lastVerify?: { ok: boolean; level: string };
    };
    expect(state.collections).toHaveLength(6);
    expect(state.collections.every((c) => c.complete)).toBe(true);
    expect(state.collections.reduce((sum, c) => sum + c.read, 0)).toBe(3000);
    expect(state.lastVerify).toMatchObject({ ok: true, level: 'deep' });
  });
});
