import { describe, expect, it } from 'vitest';
import { damagedPath } from '../../../src/verify/damaged-rows.js';
import { renderVerifyHtml } from '../../../src/verify/report-html.js';
import { renderVerifyText } from '../../../src/verify/report-text.js';
import type { VerifyResult } from '../../../src/verify/types.js';
import { child, col, onePlan, table } from '../../support/plans.js';

const result: VerifyResult = {
  level: 'deep',
  schema: 'public',
  collections: [
    {
      collection: 'orders<script>',
      level: 'deep',
      sourceCount: 3,
      targetCount: 3,
      rejected: 0,
      compared: 3,
      matched: 2,
      missing: 0,
      extra: 0,
      content: 1,
      countsAgree: true,
      differences: [
        {
          kind: 'content',
          id: 'a"b&c',
          fields: [{ path: 'items.0.<b>', kind: 'value', source: '"<i>x</i>"', target: '"y"' }],
        },
      ],
      truncated: false,
      ok: false,
      seconds: 0.1,
    },
  ],
  reconciliation: [],
  indexes: [],
  verdict: 'mismatch',
  rejected: 0,
  acceptRejects: false,
  ok: false,
  seconds: 0.2,
};

describe('verify reports', () => {
  it('the HTML report escapes every piece of data and carries no script', () => {
    const html = renderVerifyHtml(result, { generatedAt: new Date(0) });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<i>');
    expect(html).toContain('&#34;&#60;i&#62;x&#60;/i&#62;&#34;');
    expect(html).toContain('orders&#60;script&#62;');
    expect(html).toContain('a&#34;b&#38;c');
    expect(html).toContain('items.0.&#60;b&#62;');
    expect(html).toContain('MISMATCH');
  });

  it('the text summary names the _id, path and verdict, and values only when the result holds them', () => {
    const text = renderVerifyText(result);
    expect(text).toContain(
      'content  orders<script>  a"b&c  items.0.<b> (value)  source="<i>x</i>" target="y"',
    );
    expect(text).toMatch(/MISMATCH in 1 collection/);
  });
});

describe('damaged child rows', () => {
  const plan = onePlan('o', [
    table('o', [col('id', ['_id'], 'text', 'string', { nullable: false })]),
    child('o_items', 'o', ['items'], 'array', []),
    child(
      'o_items_marks',
      'o_items',
      ['marks'],
      'array',
      [col('v', [], 'integer', 'int')],
      ['parent_id', 'parent_idx'],
    ),
  ]);
  const collection = plan.collections[0]!;

  it('name the array whose idx has a gap, with the ordinals of its ancestors', () => {
    const rows = new Map([
      ['o', [{ id: 'x' }]],
      [
        'o_items',
        [
          { parent_id: 'x', idx: 0 },
          { parent_id: 'x', idx: 1 },
          { parent_id: 'x', idx: 2 },
        ],
      ],
      [
        'o_items_marks',
        [
          { parent_id: 'x', parent_idx: 2, idx: 0 },
          { parent_id: 'x', parent_idx: 2, idx: 2 },
        ],
      ],
    ]);
    expect(damagedPath(collection, rows as never)).toBe('items.2.marks');
  });

  it('name the top-level array when its own rows have a gap', () => {
    const rows = new Map([['o_items', [{ parent_id: 'x', idx: 1 }]]]);
    expect(damagedPath(collection, rows as never)).toBe('items');
  });
});
