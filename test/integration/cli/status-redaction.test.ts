import { describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';

// pg reads the password of this URL as `p@ssw0rd`; a regular expression that stops at the
// first '@' printed `postgres://app:***@ssw0rd@…` (issue 12).
const TARGET = 'postgres://app:p@ssw0rd@127.0.0.1:1/x';

describe('ferry status with a password that contains an @', () => {
  it('exits 3 and prints no part of the password as text', async () => {
    const result = await runFerry(['status', '--target', TARGET]);
    expect(result.code).toBe(3);
    const output = result.stdout + result.stderr;
    expect(output).not.toContain('p@ssw0rd');
    expect(output).not.toContain('ssw0rd');
    expect(result.stderr).toContain('postgres://app:***@127.0.0.1:1/x');
  });

  it('exits 3 and prints no part of the password as JSON', async () => {
    const result = await runFerry(['status', '--json', '--target', TARGET]);
    expect(result.code).toBe(3);
    const output = result.stdout + result.stderr;
    expect(output).not.toContain('p@ssw0rd');
    expect(output).not.toContain('ssw0rd');
    const error = JSON.parse(result.stdout).error;
    expect(error.code).toBe('TARGET_UNREACHABLE');
    expect(error.message).toContain('postgres://app:***@127.0.0.1:1/x');
  });
});
