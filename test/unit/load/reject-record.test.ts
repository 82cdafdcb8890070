import { Int32, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { rejectFromLoad, rejectFromMapping } from '../../../src/load/reject-record.js';
import { canonicalDiff } from '../../../src/mapping/canonical/index.js';
import { parseExtendedJson } from '../../../src/sources/ejson/parse-extended-json.js';

describe('the raw document of a reject', () => {
  const doc = {
    _id: new ObjectId('65f0a1b2c3d4e5f601234567'),
    gone: undefined,
    n: new Int32(1),
    list: [undefined, { deep: undefined }],
  };

  it('keeps BSON undefined, so a retried document comes back whole', () => {
    for (const reject of [
      rejectFromMapping(doc, { code: 'STRING_CONTAINS_NUL', path: 'x', reason: 'r' }),
      rejectFromLoad(doc, 'LOAD_CONSTRAINT_VIOLATION', 'r'),
    ]) {
      expect(reject.raw).toContain('"gone":{"$undefined":true}');
      expect(canonicalDiff(parseExtendedJson(reject.raw), doc)).toEqual([]);
    }
    // The document itself is left as it was.
    expect(Object.hasOwn(doc, 'gone') && doc.gone === undefined).toBe(true);
  });
});
