import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';

/** The tests' Prometheus reader must refuse what Prometheus refuses, or "it parses" proves nothing. */
describe('the strict Prometheus text reader of the tests', () => {
  const family = '# HELP ferry_x Help text\n# TYPE ferry_x gauge\n';

  it('reads families, labels with escapes, and special values', () => {
    const families = parsePrometheusText(
      `${family}ferry_x{a="q\\"uote",b="back\\\\slash\\n"} 1.5\nferry_x{a="2"} +Inf\n\n# a comment\n`,
    );
    expect(families.get('ferry_x')).toMatchObject({ type: 'gauge', help: 'Help text' });
    expect(sampleValue(families, 'ferry_x', { a: 'q"uote', b: 'back\\slash\n' })).toBe(1.5);
    expect(sampleValue(families, 'ferry_x', { a: '2' })).toBe(Number.POSITIVE_INFINITY);
  });

  it.each([
    ['a sample before its TYPE', 'ferry_x 1\n'],
    ['a value that is no number', `${family}ferry_x one\n`],
    ['an unterminated label value', `${family}ferry_x{a="1} 1\n`],
    ['an unknown escape', `${family}ferry_x{a="\\t"} 1\n`],
    ['a label twice', `${family}ferry_x{a="1",a="2"} 1\n`],
    ['the same series twice', `${family}ferry_x{a="1"} 1\nferry_x{a="1"} 2\n`],
    ['a second TYPE', `${family}# TYPE ferry_x gauge\n`],
    ['an unknown type', '# TYPE ferry_x meter\n'],
    ['a missing final newline', `${family}ferry_x 1`],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n'],
    [
      'buckets that are not cumulative',
      '# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n',
    ],
    ['a count other than +Inf', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
