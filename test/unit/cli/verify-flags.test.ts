import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyTuning, writeVerifyReports } from '../../../src/cli/verify-flags.js';
import type { VerifyResult } from '../../../src/verify/types.js';

function verified(schema: string): VerifyResult {
  return {
    level: 'deep',
    schema,
    collections: [],
    reconciliation: [],
    indexes: [],
    ok: true,
    verdict: 'complete',
    rejected: 0,
    acceptRejects: false,
    seconds: 0.1,
  };
}

describe('the verification flags of ferry verify and ferry migrate', () => {
  it('become verify options with the defaults of ferry verify, and a non-number is a usage error', () => {
    expect(verifyTuning({})).toEqual({ fraction: 0.1, showValues: false, maxDifferences: 1000 });
    expect(verifyTuning({ fraction: '0.25', seed: '7', showValues: true, maxDifferences: '5' })).toEqual({
      fraction: 0.25,
      seed: 7,
      showValues: true,
      maxDifferences: 5,
    });
    expect(() => verifyTuning({ seed: 'seven' })).toThrow(
      expect.objectContaining({
        code: 'VERIFY_BAD_OPTION',
        exitCode: 2,
        message: '--seed must be a number, not "seven"',
      }),
    );
  });

  it('write --report as named for one schema, and one file per schema, named after it, for several', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-verify-reports-'));
    const single = path.join(dir, 'one', 'verify.html');
    await mkdir(path.dirname(single));
    expect(await writeVerifyReports(single, [verified('public')])).toEqual([single]);
    expect(await readFile(single, 'utf8')).toMatch(/^<!DOCTYPE html>/);

    const several = path.join(dir, 'verify.html');
    expect(await writeVerifyReports(several, [verified('app'), verified('audit')])).toEqual([
      path.join(dir, 'verify.app.html'),
      path.join(dir, 'verify.audit.html'),
    ]);
    expect((await readdir(dir)).sort()).toEqual(['one', 'verify.app.html', 'verify.audit.html']);
  });
});
