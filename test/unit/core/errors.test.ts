import { describe, expect, it } from 'vitest';
import { asFerryError, ExitCode, exitCodeFor, FerryError } from '../../../src/core/errors.js';

describe('FerryError', () => {
  it('maps every category to the exit code DESIGN.md documents', () => {
    expect(exitCodeFor('problem')).toBe(1);
    expect(exitCodeFor('usage')).toBe(2);
    expect(exitCodeFor('input')).toBe(2);
    expect(exitCodeFor('environment')).toBe(3);
    expect(new FerryError('x', { code: 'TARGET_UNREACHABLE', category: 'environment' }).exitCode).toBe(
      ExitCode.environment,
    );
  });

  it('names the file, line, offset, collection and _id in its message', () => {
    const error = new FerryError('invalid Extended JSON', {
      code: 'SOURCE_BAD_JSON',
      category: 'input',
      where: { file: 'users.json', line: 12, offset: 900, collection: 'mflix.users', id: '"abc"' },
    });
    expect(error.message).toBe(
      'invalid Extended JSON (file users.json, line 12, offset 900, collection mflix.users, _id "abc")',
    );
  });

  it('classes environment failures as transient and input failures as terminal by default', () => {
    expect(new FerryError('down', { code: 'TARGET_UNREACHABLE', category: 'environment' }).transient).toBe(
      true,
    );
    expect(new FerryError('bad', { code: 'SOURCE_TRUNCATED', category: 'input' }).transient).toBe(false);
    expect(
      new FerryError('bad', { code: 'TARGET_REFUSED', category: 'environment', class: 'terminal' }).transient,
    ).toBe(false);
  });

  it('keeps the cause and redacts a password that appears in the message', () => {
    const cause = new Error('boom');
    const error = new FerryError('cannot reach postgres://app:s3cret@db:5432/x', {
      code: 'TARGET_UNREACHABLE',
      category: 'environment',
      cause,
    });
    expect(error.cause).toBe(cause);
    expect(error.message).not.toContain('s3cret');
    expect(error.message).toContain('postgres://app:***@db:5432/x');
  });

  it('wraps foreign errors as internal and leaves FerryErrors alone', () => {
    const original = new FerryError('x', { code: 'CONFIG_INVALID', category: 'usage' });
    expect(asFerryError(original)).toBe(original);
    const wrapped = asFerryError(new TypeError('oops'));
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.exitCode).toBe(ExitCode.problem);
  });
});
