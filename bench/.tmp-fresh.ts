// temp: prints a fresh db url for a plan
import { freshDatabase } from './backfill-db.js';
import { readPlan } from './backfill-inputs.js';
const plan = await readPlan(process.argv[2]!);
const db = await freshDatabase(process.argv[3]!, plan);
console.log(db.url);
