import fc from 'fast-check';

/**
 * Extended JSON values for property tests: every wrapper (valid and at its edges), plain
 * numbers at the int32/int64/double boundaries, and `$` keys that are not wrappers, nested in
 * documents whose keys include `_id`, `__proto__` and dotted names. `JSON.stringify` one to get
 * the text a parser is given.
 */
const ejsonLeaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer().map((n) => ({ $numberInt: String(n) })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => ({ $numberLong: String(n) })),
  fc.double().map((d) => ({ $numberDouble: Object.is(d, -0) ? '-0.0' : String(d) })),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '-0.0', '1.0E300').map((s) => ({ $numberDouble: s })),
  fc
    .constantFrom('1.5', '-0', '1E+6144', 'NaN', '0.000001', '12345678901234567890.123')
    .map((s) => ({ $numberDecimal: s })),
  fc.stringMatching(/^[0-9a-f]{24}$/).map((s) => ({ $oid: s })),
  fc
    .date({ min: new Date(-1e13), max: new Date(1e13), noInvalidDate: true })
    .map((d) => ({ $date: d.toISOString() })),
  fc.integer({ min: -1e12, max: 1e13 }).map((n) => ({ $date: { $numberLong: String(n) } })),
  fc.uint8Array({ maxLength: 20 }).map((b) => ({
    $binary: { base64: Buffer.from(b).toString('base64'), subType: '00' },
  })),
  fc.uuid().map((u) => ({ $uuid: u })),
  fc
    .record({ t: fc.nat({ max: 2 ** 31 - 1 }), i: fc.nat({ max: 2 ** 31 - 1 }) })
    .map((ts) => ({ $timestamp: ts })),
  fc.constant({ $minKey: 1 }),
  fc.constant({ $maxKey: 1 }),
  fc.constant({ $undefined: true }),
  fc.tuple(fc.string(), fc.constantFrom('', 'i', 'mx')).map(([p, o]) => ({ $regex: p, $options: o })),
  fc
    .tuple(fc.string(), fc.constantFrom('', 'i', 'ms'))
    .map(([p, o]) => ({ $regularExpression: { pattern: p, options: o } })),
  fc.constant({ $code: 'x', $scope: { a: 1 } }),
  fc.constant({ $ref: 'users', $id: { $oid: '59b99db4cfa9a34dcd7885b6' } }),
  fc.constant({ $set: { a: 1 } }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 53 + 2,
    2 ** 63,
    -(2 ** 63),
    2 ** 64,
    1e300,
    0.1,
  ),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
);

export const ejsonValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, ejsonLeaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(
    fc.oneof(fc.string(), fc.constantFrom('_id', '__proto__', '$x', 'a.b', '1')),
    tie('value'),
    { maxKeys: 5 },
  ),
})).object;
