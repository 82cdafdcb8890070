// A fresh process for the write guard test: whether the driver is guarded before and after
// `createRuntime`, with nothing else of Ferry's loaded that could have installed it. Prints one
// JSON line. Arguments: the target URL, the MongoDB URL, a file holding the mapping.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { createRuntime } from '../../../src/runtime/runtime.js';

const [targetUrl, mongoUrl, planFile] = process.argv.slice(2) as [string, string, string];
const { Connection } = createRequire(import.meta.url)('mongodb/lib/cmap/connection.js') as {
  Connection: { prototype: Record<symbol, unknown> };
};
const guarded = () => Connection.prototype[Symbol.for('ferry.driverWriteGuard')] === true;
const before = guarded();
const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
const pool = new pg.Pool({ connectionString: targetUrl, max: 2 });
const mapping = JSON.parse(await readFile(planFile, 'utf8'));
const runtime = await createRuntime({ mongo: client.db('guardprobe'), pg: pool, config: { mapping } });
const after = guarded();
await runtime.close();
await pool.end();
await client.close();
process.stdout.write(`${JSON.stringify({ before, after })}\n`);
