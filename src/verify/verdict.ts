import type { CollectionVerifyResult, VerifyVerdict } from './types.js';

/**
 * The verdict over collection results (DESIGN.md invariant 2): `mismatch` when anything
 * differs, else `incomplete` while any document is rejected, else `complete`. Rejected
 * documents are accounted for, but they are not in the target, so they are never `complete`.
 *
 * @example
 * verifyVerdict([{ ok: true, rejected: 3 }], false)   // { verdict: 'incomplete', rejected: 3 }
 */
export function verifyVerdict(
  collections: readonly Pick<CollectionVerifyResult, 'ok' | 'rejected'>[],
  reconciliationFailed: boolean,
): { verdict: VerifyVerdict; rejected: number } {
  const rejected = collections.reduce((sum, c) => sum + c.rejected, 0);
  if (reconciliationFailed || collections.some((c) => !c.ok)) return { verdict: 'mismatch', rejected };
  return { verdict: rejected > 0 ? 'incomplete' : 'complete', rejected };
}

/**
 * The verdict in words, the same in the terminal summary, the HTML report and `ferry status`.
 *
 * @example
 * verdictText({ verdict: 'incomplete', rejected: 5000, acceptRejects: false })   // 'incomplete: 5000 rejected'
 * verdictText({ verdict: 'incomplete', rejected: 2, acceptRejects: true })       // 'incomplete: 2 rejected (accepted)'
 */
export function verdictText(result: {
  readonly verdict: VerifyVerdict;
  readonly rejected: number;
  readonly acceptRejects: boolean;
}): string {
  switch (result.verdict) {
    case 'complete':
      return 'complete';
    case 'incomplete':
      return `incomplete: ${result.rejected} rejected${result.acceptRejects ? ' (accepted)' : ''}`;
    case 'mismatch':
      return result.rejected > 0 ? `MISMATCH (and ${result.rejected} rejected)` : 'MISMATCH';
  }
}
