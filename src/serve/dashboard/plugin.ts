import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { redactSecrets } from '../../core/redact.js';
import type { TargetDatabase } from '../../target/target-database.js';
import { renderVerifyHtml } from '../../verify/report-html.js';
import { RateTracker } from './backfill-section.js';
import { DashboardFeed } from './dashboard-feed.js';
import { readRejectsSection, readRejectView } from './rejects-section.js';
import type { OutboxPoint } from './snapshot.js';
import { readStoredRuns } from './verify-section.js';

/**
 * What the dashboard needs.
 *
 * @example
 * declare const target: TargetDatabase;
 * const options: DashboardOptions = { target, showValues: false };
 */
export interface DashboardOptions {
  /**
   * The target whose schema `ferry` the dashboard reads (open it as `ferry status` does, with
   * `openTarget`). The dashboard only reads, and never closes it: the caller owns it.
   */
  readonly target: Pick<TargetDatabase, 'query' | 'location'>;
  /** Show document values (a reject's raw document), as `--show-values` allows. Default false. */
  readonly showValues?: boolean;
  /** How often the live stream reads a fresh snapshot, in ms. Default 500. */
  readonly intervalMs?: number;
}

/** The page's own files: hand-written HTML, CSS and ES modules, served as they are. */
const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};
/** uPlot from node_modules (no CDN, no bundler): its browser build and its stylesheet. */
const UPLOT_DIR = path.dirname(createRequire(import.meta.url).resolve('uplot'));
const VENDOR_FILES: Readonly<Record<string, string>> = {
  'uplot.js': path.join(UPLOT_DIR, 'uPlot.iife.min.js'),
  'uplot.css': path.join(UPLOT_DIR, 'uPlot.min.css'),
};
/** Scripts and styles from this server only; nothing the page loads may come from elsewhere. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The live dashboard as a fastify plugin: the page at `/`, its assets, uPlot, the JSON under
 * `/api/dashboard/*` and the server-sent events at `/api/dashboard/events` (a snapshot about
 * every `intervalMs`). Every URL in the page is relative, so it also works under a prefix.
 *
 * Routes:
 * - `GET /`: the page; `GET /assets/<file>`, `GET /vendor/uplot.js|uplot.css`;
 * - `GET /api/dashboard/snapshot`: everything the page shows, once;
 * - `GET /api/dashboard/events`: the same, as a `snapshot` event per interval (`problem` when a read fails);
 * - `GET /api/dashboard/rejects`, `GET /api/dashboard/rejects/:id`: rejects (raw only with `showValues`);
 * - `GET /api/dashboard/verify-runs/:id/report.html`: a run's HTML report, from what the run stored.
 *
 * @example
 * import Fastify from 'fastify';
 * const db = await openTarget(process.env.DATABASE_URL);
 * const app = Fastify();
 * await app.register(dashboardPlugin, { target: db, showValues: false });
 * await app.listen({ host: '127.0.0.1', port: 7070 });
 */
export const dashboardPlugin: FastifyPluginAsync<DashboardOptions> = async (app, options) => {
  const db = options.target;
  const showValues = options.showValues === true;
  const outboxHistory: OutboxPoint[] = [];
  const feed = new DashboardFeed(
    {
      db,
      location: db.location,
      showValues,
      apiBase: 'api/dashboard',
      rates: new RateTracker(),
      outboxHistory,
    },
    options.intervalMs ?? 500,
  );
  const assets = new Set(readdirSync(ASSETS_DIR));
  const streams = new Set<FastifyReply>();

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    return payload;
  });
  // Open event streams never end by themselves: close them, or closing the server waits forever.
  app.addHook('preClose', async () => {
    feed.close();
    for (const reply of streams) reply.raw.end();
    streams.clear();
  });

  app.get('/', async (request, reply) => {
    // Under a prefix, `/dash` must become `/dash/`: the page's relative URLs resolve from it.
    const [pathname, query] = request.url.split('?', 2);
    if (!pathname!.endsWith('/'))
      return reply.redirect(`${pathname}/${query === undefined ? '' : `?${query}`}`);
    return sendFile(reply, path.join(ASSETS_DIR, 'index.html'));
  });
  app.get<{ Params: { file: string } }>('/assets/:file', async (request, reply) => {
    // Only the files that ship in the folder: no path from the request reaches the file system.
    if (!assets.has(request.params.file)) return reply.code(404).send({ error: 'no such asset' });
    return sendFile(reply, path.join(ASSETS_DIR, request.params.file));
  });
  app.get<{ Params: { file: string } }>('/vendor/:file', async (request, reply) => {
    const file = VENDOR_FILES[request.params.file];
    if (file === undefined) return reply.code(404).send({ error: 'no such file' });
    return sendFile(reply, file);
  });

  app.get('/api/dashboard/snapshot', async () => feed.read());
  app.get('/api/dashboard/events', (request, reply) => {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    raw.write('retry: 2000\n\n');
    streams.add(reply);
    const stop = feed.subscribe((event) => {
      const [name, data] =
        'snapshot' in event ? ['snapshot', event.snapshot] : ['problem', { message: event.problem }];
      raw.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    });
    request.raw.on('close', () => {
      stop();
      streams.delete(reply);
    });
  });

  app.get('/api/dashboard/rejects', async () => readRejectsSection(db));
  app.get<{ Params: { id: string } }>('/api/dashboard/rejects/:id', async (request, reply) => {
    const id = Number(request.params.id);
    const reject = Number.isSafeInteger(id) ? await readRejectView(db, id, showValues) : undefined;
    if (reject === undefined) return reply.code(404).send({ error: `no reject ${request.params.id}` });
    return reject;
  });
  app.get<{ Params: { id: string } }>(
    '/api/dashboard/verify-runs/:id/report.html',
    async (request, reply) => {
      const id = Number(request.params.id);
      const [run] = Number.isSafeInteger(id) ? await readStoredRuns(db, id, 1) : [];
      if (run === undefined) return reply.code(404).send({ error: `no verify run ${request.params.id}` });
      const html = renderVerifyHtml(run, {
        title: `Ferry verification report, run ${run.runId}${run.finishedAt === null ? ' (unfinished)' : ''}`,
        generatedAt: new Date(run.finishedAt ?? run.startedAt),
      });
      return reply.type('text/html; charset=utf-8').send(html);
    },
  );

  app.setErrorHandler((error, _request, reply) => {
    // A database error can quote a connection string: redacted like every other output.
    const message = redactSecrets(error instanceof Error ? error.message : String(error));
    app.log.error({ message }, 'dashboard request failed');
    return reply.code(500).send({ error: message });
  });
};

async function sendFile(reply: FastifyReply, file: string): Promise<FastifyReply> {
  const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  return reply
    .type(type)
    .header('cache-control', 'no-cache')
    .send(await readFile(file));
}
