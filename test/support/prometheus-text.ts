/**
 * A strict reader of Prometheus' text exposition format (version 0.0.4), for the tests: every
 * line must be a HELP, a TYPE, a blank or a sample, every sample must belong to a family
 * declared by a TYPE line before it (histograms through their `_bucket`, `_sum` and `_count`),
 * names and label names must be valid, label values properly escaped, values numbers, and no
 * series may appear twice. Anything else throws, naming the line.
 */

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromFamily {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Map<string, PromFamily> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, PromFamily>();
  const helps = new Map<string, string>();
  const seen = new Set<string>();
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      const where = `line ${index + 1} (${JSON.stringify(line)})`;
      if (line.trim() === '') return;
      if (line.startsWith('#')) {
        const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
        if (match === null) {
          if (/^# (HELP|TYPE)/.test(line)) throw new Error(`${where}: malformed ${line.slice(2, 6)}`);
          return; // a comment
        }
        const [, kind, name, rest] = match as unknown as [string, string, string, string];
        if (!NAME.test(name)) throw new Error(`${where}: invalid metric name`);
        if (kind === 'HELP') {
          if (helps.has(name)) throw new Error(`${where}: second HELP for ${name}`);
          helps.set(name, rest);
          return;
        }
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
        if (families.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
        families.set(name, { name, type: rest, help: helps.get(name) ?? '', samples: [] });
        return;
      }
      const sample = parseSample(line, where);
      const family = familyOf(families, sample.name);
      if (family === undefined) throw new Error(`${where}: sample before its family's TYPE`);
      const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
      if (seen.has(key)) throw new Error(`${where}: duplicate series`);
      seen.add(key);
      family.samples.push(sample);
    });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function familyOf(families: Map<string, PromFamily>, name: string): PromFamily | undefined {
  const exact = families.get(name);
  if (exact !== undefined) return exact.type === 'histogram' || exact.type === 'summary' ? undefined : exact;
  const suffix = /_(bucket|sum|count)$/.exec(name);
  if (suffix === null) return undefined;
  const base = families.get(name.slice(0, -suffix[0].length));
  if (base === undefined) return undefined;
  if (base.type === 'histogram' || (base.type === 'summary' && suffix[1] !== 'bucket')) return base;
  return undefined;
}

function parseSample(line: string, where: string): PromSample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (nameMatch === null) throw new Error(`${where}: no metric name`);
  const name = nameMatch[0];
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at++;
    while (line[at] !== '}') {
      const labelMatch = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(at));
      if (labelMatch === null || !LABEL_NAME.test(labelMatch[1]!))
        throw new Error(`${where}: bad label at ${at}`);
      at += labelMatch[0].length;
      let value = '';
      for (;;) {
        const c = line[at];
        if (c === undefined) throw new Error(`${where}: unterminated label value`);
        at++;
        if (c === '"') break;
        if (c === '\\') {
          const escaped = line[at++];
          if (escaped === 'n') value += '\n';
          else if (escaped === '\\' || escaped === '"') value += escaped;
          else throw new Error(`${where}: bad escape \\${escaped}`);
        } else value += c;
      }
      if (Object.hasOwn(labels, labelMatch[1]!)) throw new Error(`${where}: label ${labelMatch[1]} twice`);
      labels[labelMatch[1]!] = value;
      if (line[at] === ',') at++;
      else if (line[at] !== '}') throw new Error(`${where}: expected , or } at ${at}`);
    }
    at++;
  }
  const rest = /^ (\S+)( -?\d+)?$/.exec(line.slice(at));
  if (rest === null) throw new Error(`${where}: expected " value [timestamp]"`);
  const value = numberOf(rest[1]!);
  if (value === undefined) throw new Error(`${where}: ${rest[1]} is not a number`);
  return { name, labels, value };
}

function numberOf(text: string): number | undefined {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Each series of a histogram: cumulative buckets ending in +Inf, whose count equals `_count`. */
function checkHistogram(family: PromFamily): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      entry.buckets.push([numberOf(le)!, s.value]);
    } else if (s.name.endsWith('_count')) entry.count = s.value;
    else if (s.name.endsWith('_sum')) entry.sum = s.value;
  }
  for (const [key, entry] of series) {
    const sorted = [...entry.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.at(-1)?.[0] !== Number.POSITIVE_INFINITY)
      throw new Error(`${family.name}${key}: no +Inf bucket`);
    for (let i = 1; i < sorted.length; i++)
      if (sorted[i]![1] < sorted[i - 1]![1]) throw new Error(`${family.name}${key}: buckets not cumulative`);
    if (entry.count !== sorted.at(-1)![1]) throw new Error(`${family.name}${key}: _count differs from +Inf`);
    if (entry.sum === undefined) throw new Error(`${family.name}${key}: no _sum`);
  }
}

/** The value of the one sample of `name` whose labels include `labels`. */
export function sampleValue(
  families: Map<string, PromFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  for (const family of families.values())
    for (const s of family.samples)
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
  return undefined;
}
