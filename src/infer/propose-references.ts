import { columnName, uniqueName } from '../mapping/names.js';
import { type ElementScope, type IdTarget, type TableContext, warn } from './propose-context.js';
import type { TypeChoice } from './propose-types.js';
import type { ReferenceFinding } from './references.js';
import type { FieldSnapshot } from './snapshot.js';

/**
 * Reference rules (DESIGN.md "Mapping rules"): an id field of one collection becomes a
 * foreign key; ids of several kinds become a discriminator triple.
 */

export function placeDiscriminator(
  context: TableContext,
  scope: ElementScope,
  field: FieldSnapshot,
  rel: string[],
  finding: ReferenceFinding,
  presence: string,
): boolean {
  const kinds = finding.kinds.map((k) => {
    const target = k.targets[0]!;
    const id = context.ids.get(target.collection);
    return {
      name: target.collection,
      idType: k.kind === 'objectId' ? ('objectId' as const) : ('string' as const),
      ...(id ? { table: id.table } : {}),
    };
  });
  const distinct = new Set(kinds.map((k) => k.idType));
  // Without a sibling naming the kind, only the id's type can tell kinds apart: one id type
  // over several collections (users and requests both ObjectIds) would label every id with
  // the first collection. Those stay a plain column, with a warning that suggests a kindPath.
  if (kinds.length < 2) return false;
  if (distinct.size !== kinds.length || new Set(kinds.map((k) => k.name)).size !== kinds.length) return false;
  const base = columnName(rel);
  const names = ['kind', 'id', 'ref'].map((suffix) => {
    const name = uniqueName(`${base}_${suffix}`, scope.taken);
    scope.taken.add(name);
    return name;
  });
  const [kind, id, ref] = names as [string, string, string];
  scope.table.discriminators.push({ path: [...rel], columns: { kind, id, ref }, kinds });
  scope.table.present.set(id, field.occurrences - field.nulls);
  scope.table.decisions.set(id, context.decisions.length);
  context.decisions.push({
    table: scope.table.name,
    column: `${kind}, ${id}, ${ref}`,
    path: field.name,
    rule: 'polymorphic',
    evidence: `${presence}; ${describeTargets(finding)}`,
    reason: `ids of several kinds: the discriminator triple (${kind} text, ${id} uuid for ObjectIds, ${ref} text for string ids) with a CHECK`,
  });
  warn(
    context,
    'POLYMORPHIC_REFERENCE',
    field,
    `points at ${describeTargets(finding)}: a discriminator triple ${kind}/${id}/${ref}; review the kind names`,
  );
  return true;
}

export function referenceTarget(
  context: TableContext,
  finding: ReferenceFinding,
  choice: TypeChoice,
): IdTarget | undefined {
  const kind = finding.kinds[0];
  const target = kind?.targets[0];
  if (finding.kinds.length !== 1 || !target) return undefined;
  // A foreign key the data already violates would fail when it is added after the load.
  // Dangling ids are common in MongoDB apps (deletes never cascade), so the column stays and
  // the report says how many ids point nowhere; the user can clean up and add the key later.
  if (target.overlap < 1) return undefined;
  const id = context.ids.get(target.collection);
  return id && id.pgType === choice.pgType ? id : undefined;
}

/**
 * The warning for a reference whose ids do not all resolve: no foreign key, and why.
 *
 * @example
 * declare const finding: ReferenceFinding;
 * danglingReason(finding) // 'objectId → users (99.5%): 0.5% of the ids point at no document; no foreign key'
 */
export function danglingReason(finding: ReferenceFinding): string | undefined {
  const target = finding.kinds.length === 1 ? finding.kinds[0]?.targets[0] : undefined;
  if (finding.verdict !== 'reference' || !target || target.overlap >= 1) return undefined;
  const missing = Math.round((1 - target.overlap) * 1000) / 10;
  return `${describeTargets(finding)}: ${missing}% of the ids point at no document; no foreign key (it would fail), clean them up and add one later`;
}

export function describeTargets(finding: ReferenceFinding): string {
  return finding.kinds
    .map(
      (k) =>
        `${k.kind} → ${k.targets.map((t) => `${t.collection} (${Math.round(t.overlap * 100)}%)`).join(', ')}`,
    )
    .join('; ');
}
