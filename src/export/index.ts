/**
 * `ferry export`: documents rebuilt from PostgreSQL through the mapping's one inverse,
 * written as a mongodump archive or directory, Extended JSON lines or plain JSON, with a
 * checkpoint journal for `--resume` and a manifest of counts and bucket sums.
 *
 * @example
 * import { exportDocuments, type TargetDatabase, type Plan } from 'ferry';
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * await exportDocuments({ db, plan, schema: 'public', to: 'backup/shop.archive', format: 'archive' });
 */

export {
  type ExportedCollection,
  type ExportOptions,
  type ExportSummary,
  exportDocuments,
} from './export.js';
export { EXPORT_FORMATS, type ExportFormat, type JsonLayout } from './export-format.js';
export { type ExportManifest, manifestPath, readExportManifest } from './export-manifest.js';
export type { UnrebuildableRow } from './orphan-rows.js';
