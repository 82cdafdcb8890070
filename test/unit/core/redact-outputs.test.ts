import { describe, expect, it } from 'vitest';
import { processOutput } from '../../../src/cli/output.js';
import { createLogger } from '../../../src/core/log.js';
import { FerryError } from '../../../src/index.js';
import { renderVerifyHtml } from '../../../src/verify/report-html.js';
import type { VerifyResult } from '../../../src/verify/types.js';

/** `p@ssw0rd` is where a regular expression and the `pg` driver disagree on the password. */
const URL_WITH_AT = 'postgres://app:p@ssw0rd@127.0.0.1:5432/shop';

function expectNoSecret(text: string): void {
  expect(text).not.toContain('p@ssw0rd');
  expect(text).not.toContain('ssw0rd');
}

describe('every door text leaves Ferry by is redacted from the parsed URL', () => {
  it('a FerryError message keeps the host and drops a password that contains an @', () => {
    const error = new FerryError(`cannot connect to PostgreSQL at ${URL_WITH_AT}: timeout`, {
      code: 'TARGET_UNREACHABLE',
      category: 'environment',
    });
    expectNoSecret(error.message);
    expect(error.message).toContain('postgres://app:***@127.0.0.1:5432/shop');
  });

  it('the log redacts nested fields and error messages, not only top-level strings', () => {
    const lines: string[] = [];
    // pino takes any object with write(line) as its destination.
    const destination = { write: (line: string) => void lines.push(line) };
    const log = createLogger({ destination, level: 'info' });
    log.info({ options: { target: URL_WITH_AT, sources: [URL_WITH_AT] } }, `opening ${URL_WITH_AT}`);
    log.error({ err: new Error(`failed for ${URL_WITH_AT}`) }, 'failed');
    const text = lines.join('');
    expectNoSecret(text);
    expect(JSON.parse(lines[0]!).options.target).toBe('postgres://app:***@127.0.0.1:5432/shop');
  });

  it('command output on stdout and stderr is redacted, and JSON output stays JSON', () => {
    const written: string[] = [];
    const originalStdout = process.stdout.write;
    const originalStderr = process.stderr.write;
    const capture = (chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
    try {
      const out = processOutput(true);
      out.write(JSON.stringify({ target: URL_WITH_AT, owner: 'ops@example.com' }, null, 2));
      out.error(`warning: ${URL_WITH_AT} is slow`);
    } finally {
      process.stdout.write = originalStdout;
      process.stderr.write = originalStderr;
    }
    expectNoSecret(written.join(''));
    expect(JSON.parse(written[0]!)).toEqual({
      target: 'postgres://app:***@127.0.0.1:5432/shop',
      owner: 'ops@example.com',
    });
  });

  it('the verify HTML report redacts a URL that a reconciliation or index message carries', () => {
    const result: VerifyResult = {
      level: 'count',
      schema: 'public',
      verdict: 'complete',
      rejected: 0,
      acceptRejects: false,
      collections: [],
      reconciliation: [{ name: 'payments', status: 'skipped', message: `cannot reach ${URL_WITH_AT}` }],
      indexes: [
        { collection: 'users', index: 'email_1', status: 'warning', message: `seen on ${URL_WITH_AT}` },
      ],
      ok: true,
      seconds: 0,
    };
    const html = renderVerifyHtml(result, { generatedAt: new Date(0) });
    expectNoSecret(html);
    expect(html).toContain('postgres://app:***@127.0.0.1:5432/shop');
  });
});
