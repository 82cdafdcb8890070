import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { shopPlan } from '../../unit/schema/support/shop-plan.js';

describe('ferry schema on the embedded default target', () => {
  it('applies the migrations into PGlite under ./.ferry when no target is given, and checks clean', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-embedded-'));
    await writeFile(
      path.join(cwd, 'ferry.config.ts'),
      `export default ${JSON.stringify({ mapping: shopPlan() })};\n`,
    );
    const env = { DATABASE_URL: '' };
    const apply = await runFerry(['schema', 'apply', '--schema', 'shop'], { cwd, env });
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/shop: applied 0001/);
    expect(existsSync(path.join(cwd, '.ferry'))).toBe(true);
    const check = await runFerry(['schema', 'check', '--schema', 'shop'], { cwd, env });
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });
});
