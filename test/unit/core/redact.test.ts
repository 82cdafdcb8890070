import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/core/log.js';
import { redactSecrets } from '../../../src/core/redact.js';

describe('redactSecrets', () => {
  it.each([
    ['postgres://user:pa55@localhost:5432/db', 'postgres://user:***@localhost:5432/db'],
    [
      'mongodb://admin:p%40ss@h1:27017,h2:27017/?authSource=admin',
      'mongodb://admin:***@h1:27017,h2:27017/?authSource=admin',
    ],
    ['mongodb+srv://u:x@cluster0.example.net/app', 'mongodb+srv://u:***@cluster0.example.net/app'],
    ['host=db user=app password=hunter2 dbname=x', 'host=db user=app password=*** dbname=x'],
    ['postgres://user@localhost/db', 'postgres://user@localhost/db'],
    ['no uri here', 'no uri here'],
  ])('redacts %s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it('redacts every URI in a longer text, not only the first', () => {
    const text = 'copy from mongodb://a:one@h/x to postgres://b:two@h/y failed';
    expect(redactSecrets(text)).toBe('copy from mongodb://a:***@h/x to postgres://b:***@h/y failed');
  });
});

describe('createLogger', () => {
  it('writes JSON lines with credentials redacted from messages and fields', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ destination, level: 'info' });
    log.info({ target: 'postgres://app:topsecret@db/x' }, 'connecting to mongodb://u:alsosecret@m/x');
    log.error({ err: new Error('failed for postgres://app:errsecret@db/x') }, 'failed');
    const text = lines.join('');
    expect(text).not.toMatch(/topsecret|alsosecret|errsecret/);
    const first = JSON.parse(lines[0]!);
    expect(first.msg).toBe('connecting to mongodb://u:***@m/x');
    expect(first.target).toBe('postgres://app:***@db/x');
  });
});
