/**
 * `ferry serve`: health endpoints, Prometheus metrics and the plugins (the dashboard) over
 * HTTP, all derived from the status snapshot (src/runtime/status-snapshot.ts).
 */
export { type DashboardOptions, dashboardPlugin } from './dashboard/plugin.js';
export { dashboardServePlugin } from './dashboard/serve-plugin.js';
export { type FerryHealthOptions, ferryHealthPlugin } from './health-plugin.js';
export { createFerryMetrics, type FerryMetrics } from './metrics.js';
export {
  type DatabasesHealth,
  databasesHealthSchema,
  errorResponseSchema,
  type HealthLevel,
  type Liveness,
  livenessSchema,
  type Readiness,
  readinessSchema,
  type StoreHealth,
  type SyncAlert,
  type SyncFigures,
  type SyncHealth,
  syncHealthSchema,
} from './schemas.js';
export { createServeContext, type FerryServeContext, type ServeContextOptions } from './serve-context.js';
export { buildServer, checkBinding, type FerryServePlugin, type ServeOptions } from './server.js';
export { syncHealth } from './sync-health.js';
export {
  DEFAULT_THRESHOLDS,
  resolveThresholds,
  type SyncFigure,
  type SyncThresholds,
  thresholdsConfigSchema,
} from './thresholds.js';
