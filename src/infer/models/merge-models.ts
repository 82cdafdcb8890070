import { FerryError } from '../../core/errors.js';
import {
  type CollectionPlan,
  PLAN_VERSION,
  physicalColumns,
  type SourceIndexPlan,
} from '../../mapping/model.js';
import { columnName, uniqueName } from '../../mapping/names.js';
import { checkPlan } from '../../mapping/validate-plan.js';
import { formatPath } from '../field-path.js';
import type { Proposal } from '../propose.js';
import type { CollectionReport, Decision, IndexDecision, ReportWarning } from '../report.js';
import type { InferenceSnapshot } from '../snapshot.js';
import {
  type DraftCollection,
  dataField,
  type IdTarget,
  locate,
  type MergeContext,
  samePath,
  takenNames,
  valuesAt,
  warnModel,
} from './merge-context.js';
import { mergeField } from './merge-field.js';
import type { ModelObserver } from './model-observations.js';
import type { ModelIndex, ModelSchemas } from './model-schema.js';

/**
 * Merge what the application's Mongoose models declare into a proposal made from the data
 * (`ferry infer --models`). The tables stay the data's; the models add what data cannot show:
 * foreign keys for `ref` (even without overlap in a sample), discriminators for `refPath`,
 * CHECKs for `enum`, `Map` and `Decimal128` types where the data is silent, their indexes and
 * TTL rules, and columns for declared fields the data never holds (`timestamps` among them).
 * NOT NULL, CHECKs and foreign keys are kept only where the data does not contradict them,
 * and a model type the data contradicts is a `MODEL_TYPE_CONFLICT` warning with the data's
 * type kept, so no value is lost. Every decision says who decided: `model`, `data` or `both`.
 *
 * @example
 * declare const source: Source;
 * const models = await readModels('src/models');
 * const observer = ModelObserver.forModels(models);
 * const snapshot = (await collectStats(observer.watch(source))).snapshot();
 * const merged = mergeModels(proposeMapping(snapshot), snapshot, models, observer);
 * merged.report.warnings.filter((w) => w.code.startsWith('MODEL_'));
 */
export function mergeModels(
  proposal: Proposal,
  snapshot: InferenceSnapshot,
  models: ModelSchemas,
  observed: ModelObserver,
): Proposal {
  const collections = structuredClone(proposal.plan.collections) as unknown as DraftCollection[];
  const ids = new Map<string, IdTarget>();
  for (const c of collections) {
    const root = c.tables.find((t) => t.parent === undefined);
    const id = root?.columns.find((col) => samePath(col.path, ['_id']));
    if (root && id) ids.set(c.name, { table: root.name, column: id.name, pgType: id.pgType });
  }
  const modelsByName = new Map(models.models.map((m) => [m.name, m]));
  const warnings: ReportWarning[] = [...proposal.report.warnings];
  const reports: CollectionReport[] = [];
  for (const report of proposal.report.collections) {
    const collection = collections.find((c) => c.name === report.name)!;
    const model = models.models.find((m) => m.collection === report.name);
    const collectionSnapshot = snapshot.collections.find((c) => c.name === report.name)!;
    if (!model) {
      reports.push(report);
      continue;
    }
    const context: MergeContext = {
      collection,
      snapshot: collectionSnapshot,
      inference: snapshot,
      model,
      modelsByName,
      ids,
      observed,
      decisions: report.decisions.map((d) => ({ ...d, decidedBy: 'data' })),
      warnings,
    };
    const claimed = mergeRefPaths(context);
    for (const field of model.fields) if (!claimed.has(formatPath(field.path))) mergeField(context, field);
    noteNestedObjects(context);
    const indexes = mergeIndexes(collection, model.indexes);
    reports.push({
      ...report,
      model: model.name,
      decisions: context.decisions,
      tables: report.tables.map((t) => ({
        ...t,
        columns: physicalColumns(
          collection as unknown as CollectionPlan,
          collection.tables.find((x) => x.name === t.name) as unknown as CollectionPlan['tables'][number],
        ).length,
      })),
      indexes,
    });
  }
  for (const model of models.models)
    if (!collections.some((c) => c.name === model.collection))
      warnings.push({
        code: 'MODEL_COLLECTION_ABSENT',
        collection: model.collection,
        message: `model ${model.name} stores in ${model.collection}, which the source does not have: no table is proposed for it (infer again once it holds documents)`,
      });
  const checked = checkPlan({ version: PLAN_VERSION, collections });
  if (!checked.ok)
    throw new FerryError(
      `the mapping merged with the models fails validation (a bug in ferry infer --models): ${checked.problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`,
      { code: 'INFER_PROPOSAL_INVALID', category: 'internal' },
    );
  return {
    plan: checked.plan,
    report: {
      ...proposal.report,
      collections: reports,
      warnings,
      models: models.models.map((m) => ({ name: m.name, collection: m.collection })),
    },
  };
}

/**
 * `refPath` pairs: the id field and its sibling naming the model become one discriminator
 * with a `kindPath`, in place of the columns (or the id-typed discriminator) the data gave
 * them. The kinds are the kind field's `enum`, plus any other name the data holds; each points
 * at its model's table. Returns the paths it took, which no other rule touches.
 */
function mergeRefPaths(context: MergeContext): Set<string> {
  const claimed = new Set<string>();
  for (const field of context.model.fields) {
    if (!field.refPath) continue;
    const idPlace = locate(context.collection, field.path);
    const kindPlace = locate(context.collection, field.refPath);
    if (
      !idPlace ||
      !kindPlace ||
      idPlace.table !== kindPlace.table ||
      field.path.length !== field.refPath.length
    )
      continue;
    const { table, rel } = idPlace;
    const kindRel = kindPlace.rel;
    const kindField = context.model.fields.find((f) => samePath(f.path, field.refPath!));
    const seen = context.observed.values(context.collection.name, field.refPath);
    const names = [...(kindField?.enum ?? []).map(String)];
    for (const key of seen?.distinct.keys() ?? [])
      if (key.startsWith('s:') && !names.includes(key.slice(2))) names.push(key.slice(2));
    if (names.length === 0) continue;
    const idType = field.type === 'String' ? ('string' as const) : ('objectId' as const);
    const kinds = names.map((name) => {
      const target = context.modelsByName.get(name);
      const id = target ? context.ids.get(target.collection) : undefined;
      if (!id)
        warnModel(
          context,
          'MODEL_REFERENCE_UNKNOWN',
          field,
          `refPath kind ${kindOrdinal(names, name)} ${target ? `stores in ${target.collection}, which the source does not have` : 'names no registered model'}: listed without a table`,
        );
      return { name, idType, ...(id ? { table: id.table } : {}) };
    });
    const idName = formatPath(field.path);
    const kindName = formatPath(field.refPath);
    const before = context.decisions.filter(
      (d) => d.table === table.name && (d.path === idName || d.path === kindName),
    );
    const sawPolymorphic =
      before.some((d) => d.rule === 'polymorphic') ||
      context.warnings.some(
        (w) =>
          w.collection === context.collection.name && w.path === idName && w.code === 'AMBIGUOUS_REFERENCE',
      );
    table.columns = table.columns.filter((c) => !samePath(c.path, rel) && !samePath(c.path, kindRel));
    table.discriminators = (table.discriminators ?? []).filter((d) => !samePath(d.path, rel));
    const taken = takenNames(table);
    const base = columnName(rel);
    const [kind, id, ref] = ['kind', 'id', 'ref'].map((suffix) => {
      const name = uniqueName(`${base}_${suffix}`, taken);
      taken.add(name);
      return name;
    }) as [string, string, string];
    table.discriminators.push({ path: rel, kindPath: kindRel, columns: { kind, id, ref }, kinds });
    const evidence = before.map((d) => `${d.path}: ${d.evidence}`).join('; ') || 'not in the data';
    const withoutOld = context.decisions.filter((d) => !before.includes(d));
    const decision: Decision = {
      table: table.name,
      column: `${kind}, ${id}, ${ref}`,
      path: idName,
      rule: 'polymorphic',
      evidence,
      reason: `the model's refPath: ${kindName} names the model of each id, so a discriminator triple (${kind}, ${id}, ${ref}) with a CHECK over ${kinds.map((k) => `${k.name}${k.table ? ` → ${k.table}` : ''}`).join(', ')}`,
      decidedBy: sawPolymorphic ? 'both' : 'model',
      model: `refPath ${kindName}${kindField?.enum ? ` (enum of ${kindField.enum.length})` : ''}`,
    };
    const at = withoutOld.findIndex((d) => d.table === table.name && d.path > idName);
    withoutOld.splice(at < 0 ? withoutOld.length : at, 0, decision);
    context.decisions = withoutOld;
    // The data's guess at this reference is superseded by the model's discriminator.
    for (let i = context.warnings.length - 1; i >= 0; i--) {
      const w = context.warnings[i]!;
      if (
        w.collection === context.collection.name &&
        w.path === idName &&
        /REFERENCE$/.test(w.code) &&
        !w.code.startsWith('MODEL_')
      )
        context.warnings.splice(i, 1);
    }
    const values = valuesAt(dataField(context, field.path));
    if (values > 0 && seen && seen.distinct.size === 0)
      warnModel(
        context,
        'MODEL_REFERENCE_UNKNOWN',
        field,
        `${values} id(s) with no ${kindName} beside them: kept in _extra`,
      );
    claimed.add(idName);
    claimed.add(kindName);
  }
  return claimed;
}

/** A flattened object whose keys the model declares (`address: { city, country }`): both decided. */
function noteNestedObjects(context: MergeContext): void {
  const declared = context.model.fields.map((f) => formatPath(f.path));
  context.decisions = context.decisions.map((d) =>
    (d.rule === 'flatten' || d.rule === 'geojson') &&
    d.decidedBy === 'data' &&
    declared.some((p) => p.startsWith(`${d.path}.`))
      ? { ...d, decidedBy: 'both', model: 'a nested object' }
      : d,
  );
}

function kindOrdinal(names: readonly string[], name: string): string {
  return `#${names.indexOf(name) + 1}`;
}

/** The model's indexes added to the source's; one with the same key is the same index. */
function mergeIndexes(collection: DraftCollection, declared: readonly ModelIndex[]): IndexDecision[] {
  const fromData = collection.indexes ?? [];
  const keyOf = (key: Readonly<Record<string, number | string>>) => JSON.stringify(Object.entries(key));
  const decisions: IndexDecision[] = [];
  const merged: SourceIndexPlan[] = [...fromData];
  const seen = new Map<string, IndexDecision['decidedBy']>(fromData.map((i) => [keyOf(i.key), 'data']));
  for (const index of declared) {
    const key = keyOf(index.key);
    if (seen.has(key)) {
      seen.set(key, 'both');
      continue;
    }
    const { name, unique, sparse, expireAfterSeconds, partialFilterExpression, ...options } =
      index.options as {
        name?: string;
        unique?: boolean;
        sparse?: boolean;
        expireAfterSeconds?: number;
        partialFilterExpression?: Record<string, unknown>;
      } & Record<string, unknown>;
    merged.push({
      name:
        name ??
        Object.entries(index.key)
          .map(([k, v]) => `${k}_${v}`)
          .join('_'),
      key: { ...index.key },
      ...(unique ? { unique } : {}),
      ...(sparse ? { sparse } : {}),
      ...(expireAfterSeconds === undefined ? {} : { expireAfterSeconds }),
      ...(partialFilterExpression ? { partialFilterExpression } : {}),
      ...(Object.keys(options).length > 0 ? { options } : {}),
    });
    seen.set(key, 'model');
  }
  for (const index of merged)
    decisions.push({
      name: index.name,
      key: index.key,
      ...(index.unique ? { unique: true } : {}),
      ...(index.sparse ? { sparse: true } : {}),
      ...(index.expireAfterSeconds === undefined ? {} : { ttlSeconds: index.expireAfterSeconds }),
      decidedBy: seen.get(keyOf(index.key)) ?? 'model',
    });
  if (merged.length > 0) collection.indexes = merged;
  return decisions;
}
