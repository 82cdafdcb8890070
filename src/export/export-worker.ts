import { workerData } from 'node:worker_threads';
import { servePageStreams } from '../core/serve-page-streams.js';
import type { Plan } from '../mapping/model.js';
import { parsePlan } from '../mapping/validate-plan.js';
import { openPostgresTarget } from '../target/postgres-target.js';
import type { TargetDatabase } from '../target/target-database.js';
import { type EncodedPage, encodedPages, type PageEncoding, type PageStart } from './export-page.js';

/**
 * The thread of `ExportThread`: reads a collection's pages from the target on its own
 * connection and sends each one encoded and hashed (export-page.ts, as the calling thread
 * would), its buffers moved rather than copied.
 */
const data = workerData as { plan: unknown; url: string; encoding: PageEncoding };
const plan: Plan = parsePlan(data.plan);
// The thread serves a PostgreSQL server only, and imports its driver statically: a dynamic
// import (as openTarget's) does not resolve in a thread running Ferry's TypeScript sources.
let db: Promise<TargetDatabase> | undefined;

servePageStreams(
  async function* (start: PageStart) {
    db ??= openPostgresTarget(data.url);
    for await (const page of encodedPages(await db, plan, start, data.encoding))
      yield {
        page: page satisfies EncodedPage,
        transfer: [page.bytes.buffer as ArrayBuffer, page.hashes.buffer as ArrayBuffer],
      };
  },
  async () => {
    await (await db)?.close();
  },
);
