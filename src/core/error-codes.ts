import type { ErrorCategory } from './errors.js';

/**
 * Every `FerryError` code: what it means, its category (which decides the exit code: problem
 * 1, usage and input 2, environment 3, internal 1) and what the user can do. Scripts match on
 * codes, so a code is never renamed or reused; `docs/errors.md` is generated from this table
 * (`npx tsx scripts/generate-error-docs.ts`). A code whose category depends on the failure
 * (a target error follows its SQLSTATE) lists every category it can have, the usual first.
 *
 * To add a code: one line, in alphabetical order within its group, then regenerate the docs.
 *
 * @example
 * declare const error: unknown;
 * if (error instanceof FerryError) console.error(ERROR_CODES[error.code].remedy);
 */
// biome-ignore format: one line per code, so branches that add codes merge cleanly
export const ERROR_CODES = {
  // Configuration and command line
  CANCELLED: { category: 'usage', meaning: 'a confirmation prompt was answered no', remedy: 'nothing was changed; run the command again when you mean it' },
  CONFIG_INVALID: { category: 'usage', meaning: 'the config file has problems; one line per problem names its path', remedy: 'fix each listed key in ferry.config.ts' },
  CONFIG_LOAD_FAILED: { category: 'usage', meaning: 'the config file could not be loaded (a syntax or import error in it)', remedy: 'run the file with `npx tsx ferry.config.ts` to see the error, and fix it' },
  CONFIG_NOT_FOUND: { category: 'usage', meaning: 'the file given with --config does not exist', remedy: 'check the --config path, or run `ferry infer` to write one' },
  CONFIRMATION_REQUIRED: { category: 'usage', meaning: 'a destructive command needs confirmation and there is no terminal to ask on', remedy: 'rerun with --yes once you have read what it will do' },
  USAGE_BAD_OPTION: { category: 'usage', meaning: 'an option that takes one of a fixed set of words got another', remedy: 'the message lists the words it takes' },
  USAGE_BAD_LOG_LEVEL: { category: 'usage', meaning: '--log-level (or logLevel in the config) is not a level Ferry logs at', remedy: 'pass trace, debug, info, warn, error or silent' },
  USAGE_BAD_NUMBER: { category: 'usage', meaning: 'an option that takes a number got something else', remedy: 'pass a whole number in the range the option names' },
  USAGE_CONFLICT: { category: 'usage', meaning: 'two options contradict each other (for example --force and --dry-run)', remedy: 'pass only one of them' },
  // Sources
  SOURCE_AMBIGUOUS_DUMP: { category: 'input', meaning: 'a dump folder holds two files for one collection (for example .bson and .bson.gz)', remedy: 'remove the stale one' },
  SOURCE_AUTH_FAILED: { category: 'environment', meaning: 'MongoDB refused the credentials or the user lacks a privilege', remedy: 'check the user, password and authSource in the mongodb:// URI' },
  SOURCE_BAD_CHECKSUM: { category: 'input', meaning: "a collection's documents in an archive do not match the archive's checksum", remedy: 'the archive was altered or damaged after mongodump wrote it; re-create it' },
  SOURCE_BAD_DOCUMENT: { category: 'input', meaning: 'the server sent a document that is not valid BSON', remedy: 'repair or remove the document on the server; its _id is in the message' },
  SOURCE_BAD_GZIP: { category: 'input', meaning: 'a .gz file is not a valid gzip stream, or is cut short', remedy: 're-create or re-download the file' },
  SOURCE_BAD_JSON_ARRAY: { category: 'input', meaning: 'a JSON array export (mongoexport --jsonArray) is malformed at the line and offset given', remedy: 'fix the file, or export it again as one document per line' },
  SOURCE_BAD_JSON: { category: 'input', meaning: 'a plain JSON file is not valid JSON; the message gives the line and column', remedy: 'fix the file at that place' },
  SOURCE_BAD_JSON_POINTER: { category: 'usage', meaning: 'a JSON pointer to the records is not a valid RFC 6901 pointer', remedy: 'give "" or a pointer starting with "/", e.g. "/data/users"' },
  SOURCE_BAD_METADATA: { category: 'input', meaning: "a dump's .metadata.json file cannot be read", remedy: 're-create the dump, or delete the metadata file to load without its indexes' },
  SOURCE_BAD_OPTION: { category: 'usage', meaning: 'a source option is out of range (for example a batch size of 0)', remedy: 'pass a positive whole number' },
  SOURCE_BAD_RESUME_POSITION: { category: ['usage', 'input'], meaning: "a resume position does not belong to this source, or the source changed since it was taken", remedy: 'resume with a position this source produced; if the file changed, start the collection again' },
  SOURCE_BAD_URI: { category: 'usage', meaning: 'the mongodb:// connection string cannot be parsed', remedy: 'use mongodb://[user:password@]host[:port][/database][?options]' },
  SOURCE_BAD_UTF8: { category: 'input', meaning: 'a plain JSON file is not UTF-8 text', remedy: 'convert it (e.g. iconv -t UTF-8) and try again' },
  SOURCE_CLOSED: { category: 'internal', meaning: 'a source was read after it was closed (a bug in the caller)', remedy: 'open the source again; report the bug if Ferry itself did this' },
  SOURCE_CORRUPT_ARCHIVE: { category: 'input', meaning: 'a mongodump archive is damaged at the offset given', remedy: 're-create the archive with mongodump --archive' },
  SOURCE_CORRUPT_LENGTH: { category: 'input', meaning: 'a BSON length prefix is impossible, so nothing after it can be read', remedy: 're-create the dump; the offset in the message shows where the damage starts' },
  SOURCE_DUPLICATE_COLLECTION: { category: 'input', meaning: 'two files or keys give the same collection name', remedy: 'rename one, or read the files one at a time' },
  SOURCE_JSON_NO_RECORDS: { category: 'input', meaning: 'Ferry cannot tell where the records are in a plain JSON file', remedy: 'give a JSON pointer to the array or object of records' },
  SOURCE_JSON_POINTER_NOT_FOUND: { category: 'input', meaning: 'the JSON pointer does not lead to an array or object of records', remedy: 'point at the array (or map) of records, e.g. "/data/users"' },
  SOURCE_JSON_TOO_LARGE: { category: 'input', meaning: 'a plain JSON file other than one top-level array (which is streamed) is too large to read whole', remedy: "convert it to one record per line (jq -c '.[]' in.json > in.jsonl) and read that" },
  SOURCE_MISSING: { category: 'usage', meaning: 'the command needs a source and none was given', remedy: 'pass a source, or set `source` in ferry.config.ts' },
  SOURCE_MIXED_JSON_FLAVOURS: { category: 'input', meaning: 'a folder mixes Extended JSON exports and plain JSON files', remedy: 'put them in separate folders' },
  SOURCE_NOT_AN_ARCHIVE: { category: 'input', meaning: 'the file is not a mongodump archive (wrong magic number)', remedy: 'archives are written by mongodump --archive; a dump directory is read from its folder' },
  SOURCE_NOT_A_DUMP: { category: 'usage', meaning: 'the path is not a mongodump .bson file or directory', remedy: 'point at the dump folder, the database folder inside it, or a .bson file' },
  SOURCE_NOT_A_FILE: { category: 'input', meaning: 'the path names something that is not a regular file', remedy: 'point at the file itself' },
  SOURCE_NOT_FOUND: { category: 'input', meaning: 'the source path does not exist', remedy: 'check the path' },
  SOURCE_QUERY_FAILED: { category: 'environment', meaning: 'MongoDB failed a read', remedy: 'check the server; the run resumes from its last checkpoint' },
  SOURCE_READ_FAILED: { category: 'input', meaning: 'a source file cannot be read (permissions, I/O error)', remedy: 'check the file and its permissions' },
  SOURCE_RESUME_NEEDS_COLLECTION: { category: 'usage', meaning: 'a resume position was given for reading several collections', remedy: 'resume one collection at a time' },
  SOURCE_TRUNCATED: { category: 'input', meaning: 'a file ends in the middle of a document', remedy: 're-create the dump; the offset in the message shows where it ends' },
  SOURCE_UNKNOWN_COLLECTION: { category: 'usage', meaning: 'the source has no collection of that name', remedy: 'the message lists the collections it has; check the name or --only' },
  SOURCE_UNKNOWN_KIND: { category: 'usage', meaning: 'Ferry cannot tell what kind of source the path is', remedy: 'give a mongodb:// URI, a mongodump directory or archive, or .json/.jsonl files' },
  SOURCE_UNREACHABLE: { category: 'environment', meaning: 'the MongoDB server cannot be reached', remedy: 'is the server running and the address right?' },
  // Mapping, identity and comparison
  CANONICAL_TOO_DEEP: { category: 'input', meaning: 'a value nests too deeply to compare (is it cyclic?)', remedy: 'pass documents as the sources produce them' },
  CANONICAL_UNSUPPORTED_VALUE: { category: 'input', meaning: 'a value that no BSON document can hold was given to the comparison', remedy: 'pass documents as the sources produce them (bson values, plain objects and arrays)' },
  IDENTITY_NOT_OBJECTID: { category: 'input', meaning: 'a string that should be an ObjectId is not 24 hex digits', remedy: 'pass an ObjectId or its 24-digit hex form' },
  IDENTITY_NOT_OBJECTID_UUID: { category: 'input', meaning: 'a UUID was not made by Ferry from an ObjectId, so it has no ObjectId', remedy: 'only UUIDs from objectIdToUuid map back to ObjectIds' },
  MAPPING_MISSING: { category: 'usage', meaning: 'the config has no mapping', remedy: 'run `ferry infer <source>`, review the mapping, and keep it under `mapping` in ferry.config.ts' },
  MAPPING_PLAN_INVALID: { category: 'input', meaning: 'the mapping plan has problems; one line per problem names its path', remedy: 'fix the plan, or regenerate it with `ferry infer`' },
  MAPPING_ROWS_INVALID: { category: 'problem', meaning: 'rows read back from PostgreSQL cannot be turned into a document', remedy: 'select every column of every table of the collection; rows must be as Ferry wrote them' },
  MAPPING_TRANSFORM_MISSING: { category: 'usage', meaning: 'the plan names a transform that is not registered', remedy: 'register it with defineTransforms and pass { transforms }' },
  MAPPING_TRANSFORM_ONE_WAY: { category: 'usage', meaning: 'a transform lacks toColumn or fromColumn', remedy: 'give both, so toDoc can undo what toRows did' },
  MAPPING_UNKNOWN_COLLECTION: { category: 'usage', meaning: 'the mapping plan has no collection of that name', remedy: 'the message lists the collections the plan maps' },
  // Inference
  INFER_BAD_SAMPLE: { category: 'usage', meaning: '--sample is not a positive whole number, or is given with --full', remedy: 'pass --sample N or --full, not both' },
  INFER_CONFIG_EXISTS: { category: 'usage', meaning: 'the config file to write already exists', remedy: 'pass --force to replace it, or --check to check its mapping against the data' },
  INFER_MODELS_IMPORT_FAILED: { category: 'usage', meaning: 'a Mongoose model module given to --models threw (or ended the process) when imported', remedy: 'fix the module named in the message so that importing it on its own succeeds' },
  INFER_MODELS_NO_MONGOOSE: { category: 'usage', meaning: 'the folder given to --models cannot resolve the mongoose package', remedy: 'install mongoose in the application the models belong to' },
  INFER_MODELS_NONE: { category: 'usage', meaning: 'the modules given to --models registered no Mongoose model', remedy: 'pass the folder whose modules call mongoose.model(), or the module that imports them all' },
  INFER_MODELS_NOT_FOUND: { category: 'usage', meaning: 'the path given to --models does not exist', remedy: 'pass the folder of the Mongoose models, or the module that imports them' },
  INFER_MODELS_TIMEOUT: { category: 'usage', meaning: 'importing the --models modules did not finish in time', remedy: 'make the model modules importable without side effects (no connection or prompt at import)' },
  INFER_NO_MAPPING: { category: 'usage', meaning: '--check was asked for but the config has no mapping', remedy: 'run `ferry infer <source>` first to propose one' },
  INFER_PROPOSAL_INVALID: { category: 'internal', meaning: 'the proposed mapping failed its own validation (a bug in Ferry)', remedy: 'report it with the inference report; write the mapping by hand meanwhile' },
  // Schema and migrations
  SCHEMA_DESTRUCTIVE_CHANGE: { category: 'usage', meaning: 'the mapping changed in a way that can lose data (a dropped column, a narrowed type)', remedy: 'review the list; rerun with --force (and --yes off a terminal) to write it' },
  SCHEMA_DUPLICATE_VERSION: { category: 'input', meaning: 'two migration files have the same version number', remedy: 'renumber one of them' },
  SCHEMA_EXPORT_NO_FORMAT: { category: 'usage', meaning: '`ferry schema export` was given no file to write', remedy: 'pass --drizzle <file.ts>, --prisma <file.prisma>, or both' },
  SCHEMA_EXPORT_ONE_SCHEMA: { category: 'usage', meaning: '`ferry schema export` writes the tables of one PostgreSQL schema, and several were configured', remedy: 'name the one to export with --schema <name>' },
  SCHEMA_EXPORT_WRITE_FAILED: { category: 'usage', meaning: 'an exported ORM schema file could not be written', remedy: 'check that the folder exists and is writable; the message names the file' },
  SCHEMA_MIGRATION_FAILED: { category: 'problem', meaning: 'PostgreSQL refused a migration file', remedy: 'the message names the file and schema; fix the database or the file, then apply again' },
  SCHEMA_MIGRATION_TAMPERED: { category: 'problem', meaning: 'an applied migration file changed since it was applied (checksum differs)', remedy: 'restore the file from version control; add a new migration instead of editing one' },
  SCHEMA_NAME_INVALID: { category: 'usage', meaning: 'a --schema name is not a plain identifier, or is named twice', remedy: 'use plain identifiers separated by commas: --schema app,app_test' },
  SCHEMA_RELOAD_INCOMPLETE: { category: 'problem', meaning: 'a schema change was applied, but reloading the collections it affects did not complete', remedy: 'fix what the summary names, then run `ferry backfill`' },
  SCHEMA_RELOAD_NEEDS_SOURCE: { category: 'usage', meaning: 'a schema change needs some collections reloaded, and no source is configured', remedy: 'set `source` in ferry.config.ts or pass --source' },
  SCHEMA_RESERVED_TEXT: { category: 'input', meaning: 'a discriminator kind in the mapping collides with text Ferry reserves', remedy: 'rename the kind in the mapping' },
  SCHEMA_SNAPSHOT_INVALID: { category: 'input', meaning: 'the migrations snapshot is not valid JSON, or not a Ferry snapshot (damaged, or another tool\'s file)', remedy: 'restore ferry-snapshot.json from version control' },
  SCHEMA_SNAPSHOT_MISSING: { category: 'input', meaning: 'a migrations folder has SQL files but no snapshot', remedy: 'restore ferry-snapshot.json from version control' },
  SCHEMA_SNAPSHOT_VERSION: { category: 'input', meaning: 'the migrations snapshot was written for another snapshot format or mapping plan version', remedy: 'use the Ferry version that wrote it, or restore a snapshot this version wrote' },
  // Loading and rejects
  LOAD_COLLECTION_NOT_IN_SOURCE: { category: 'input', meaning: 'the mapping names a collection the source does not have', remedy: 'check the mapping or --only against the collections the message lists' },
  LOAD_EMPTY_MAPPING: { category: 'usage', meaning: 'the mapping maps no collections', remedy: 'run `ferry infer` to propose a mapping' },
  LOAD_NO_TARGET: { category: 'usage', meaning: 'backfill was called without a target database', remedy: 'pass `target` (library) or --target / DATABASE_URL' },
  LOAD_UNKNOWN_COLLECTION: { category: 'usage', meaning: '--only names a collection the mapping does not have', remedy: 'the message lists the collections the mapping has' },
  REJECT_NOT_FOUND: { category: 'usage', meaning: 'no reject has that id', remedy: 'see `ferry rejects list --all`' },
  STATE_MISSING: { category: 'usage', meaning: "the target has no Ferry state schema yet", remedy: 'run `ferry backfill` first' },
  STATE_SETUP_FAILED: { category: 'environment', meaning: "Ferry's state schema \"ferry\" cannot be created", remedy: 'the target user needs CREATE on the database; check permissions' },
  // Target database
  TARGET_BAD_ROW_VALUE: { category: 'internal', meaning: 'a row value has no binary COPY form for its column type (a bug upstream); the value shows only with FERRY_DEBUG', remedy: 'rerun with FERRY_DEBUG=1 to see the value, and report it' },
  TARGET_BAD_URL: { category: 'usage', meaning: 'the target is not a postgres:// or postgresql:// URL', remedy: 'give --target or DATABASE_URL as postgres://user:password@host:5432/database, or neither for the embedded database' },
  TARGET_CONNECT_FAILED: { category: 'environment', meaning: 'connecting to PostgreSQL failed for a reason other than the address or the credentials', remedy: 'the message gives the reason (TLS, protocol); check the server settings' },
  TARGET_COPY_BAD_ROW: { category: 'internal', meaning: 'a row handed to COPY could not be encoded', remedy: 'report it; the table and row are in the message' },
  TARGET_COPY_FAILED: { category: ['input', 'environment', 'internal'], meaning: 'PostgreSQL refused a COPY; table, line, column and SQLSTATE are in the message, row values only with FERRY_DEBUG', remedy: 'a row failure becomes a reject; otherwise check the SQLSTATE' },
  TARGET_EMBEDDED_FAILED: { category: 'environment', meaning: 'the embedded PGlite database cannot be opened', remedy: 'check the ./.ferry folder, or use a PostgreSQL server with --target' },
  TARGET_EMBEDDED_LOCKED: { category: ['environment', 'internal'], meaning: 'another process has the embedded database open', remedy: 'wait for it to finish, or use a PostgreSQL server with --target' },
  TARGET_QUERY_FAILED: { category: ['internal', 'environment', 'input'], meaning: 'a statement on the target failed; the SQLSTATE is in the message, row values only with FERRY_DEBUG', remedy: 'connection and restart failures are retried first; otherwise check the SQLSTATE' },
  TARGET_REFUSED: { category: 'environment', meaning: 'PostgreSQL refused the login (wrong password, unknown user or database)', remedy: 'check the user, password and database name in --target or DATABASE_URL' },
  TARGET_UNREACHABLE: { category: 'environment', meaning: 'the PostgreSQL server cannot be reached', remedy: 'is the server running and the address right?' },
  // Verification and generated data
  GENERATE_BAD_KNOB: { category: 'usage', meaning: 'a generator knob is not a probability', remedy: 'give it a value from 0 to 1' },
  GENERATE_BAD_SCALE: { category: 'usage', meaning: 'the demo scale is not a document count', remedy: 'use a whole number of documents, e.g. 1000000' },
  GENERATE_BAD_SEED: { category: 'usage', meaning: 'FERRY_SEED is not a seed', remedy: 'use an integer from 0 to 4294967295 (decimal or 0x hex)' },
  VERIFY_BAD_FRACTION: { category: 'usage', meaning: '--fraction is not in (0, 1]', remedy: 'pass a share such as 0.1' },
  VERIFY_BAD_LEVEL: { category: 'usage', meaning: '--level is not count, deep or sample', remedy: 'pass one of the levels the message lists' },
  VERIFY_BAD_OPTION: { category: 'usage', meaning: 'a verify option that takes a number got something else', remedy: 'pass a number' },
  VERIFY_NO_MAPPING: { category: 'usage', meaning: 'the config has no mapping to verify against', remedy: 'run `ferry infer <source>` (or `ferry migrate`) first' },
  VERIFY_UNKNOWN_COLLECTION: { category: 'usage', meaning: '--only names a collection the mapping does not have', remedy: 'the message lists the collections the mapping has' },
  // The runtime: domains, the mirrored write path, reconcile and sync
  ENTITY_APPEND_ONLY: { category: 'problem', meaning: 'a copy would change or delete a stored entity of an append-only collection (mapping `appendOnly`); PostgreSQL holds a different state of it', remedy: 'an append-only entity never changes: find out why MongoDB and PostgreSQL disagree (`ferry verify`), and correct it with a new entry, not an edit' },
  ENTITY_COPY_FAILED: { category: 'problem', meaning: "an entity's current MongoDB state could not be copied to PostgreSQL (the mapping refused it, or PostgreSQL did)", remedy: 'the gap stays open; see its error with `ferry status`, fix the cause, then `ferry reconcile`' },
  ENTITY_VERSION_CONFLICT: { category: 'problem', meaning: "a copy carries an older version of an entity (the mapping's `version` field) than PostgreSQL holds, so it is refused", remedy: 'PostgreSQL has a newer state of the entity than the primary; find the writer that bypassed the primary, then copy the newer state back with `ferry sync` or fix it by hand' },
  OUTBOX_BAD_ID: { category: 'usage', meaning: 'an _id given to outbox.enqueue cannot be the key of the collection (a string where the mapping keys on ObjectIds, say)', remedy: 'pass the documents’ _id values as the application holds them' },
  OUTBOX_DEAD_LETTERS: { category: 'problem', meaning: '`ferry outbox work --drain` ended with dead events: entities MongoDB refused after every attempt', remedy: 'see their errors in ferry.outbox (status dead); fix the cause, then `ferry outbox redrive`' },
  RUNTIME_DOCUMENT_DAMAGED: { category: 'problem', meaning: "a document's rows in PostgreSQL cannot be rebuilt into a document", remedy: 'run `ferry verify` for the collection; `ferry sync` copies the MongoDB state again' },
  RUNTIME_NO_MAPPING: { category: 'usage', meaning: 'the config has no mapping, and the runtime copies entities through it', remedy: 'run `ferry infer` and review the mapping it writes into ferry.config.ts' },
  RUNTIME_PHASE_REASON_MISSING: { category: 'usage', meaning: 'a phase change was asked for without a reason', remedy: 'say why (it is kept in ferry.domain_events)' },
  RUNTIME_SOURCE_NOT_LIVE: { category: 'usage', meaning: 'reconcile and sync need the live MongoDB primary with a database name, not a file', remedy: 'pass mongodb://host/database (--source, or `source` in ferry.config.ts)' },
  RUNTIME_TARGET_NOT_POSTGRES: { category: 'usage', meaning: 'the runtime commands need a PostgreSQL server as the target, not the embedded database', remedy: 'give --target or DATABASE_URL as postgres://user:password@host:5432/database' },
  RUNTIME_UNKNOWN_COLLECTION: { category: 'usage', meaning: 'the runtime was asked about a collection the mapping does not have', remedy: 'use a collection the message lists' },
  RUNTIME_UNKNOWN_DOMAIN: { category: 'usage', meaning: 'a phase change names a domain that is not declared', remedy: 'declare it under `domains` in ferry.config.ts; the runtime registers it when it starts' },
  RUNTIME_UNKNOWN_PHASE: { category: 'usage', meaning: 'a phase change names a phase that does not exist', remedy: 'use one of the phases the message lists' },
  SHADOW_BAD_READ: { category: 'usage', meaning: 'a shadow read names a domain that is not declared, a collection outside its domain, or has neither a candidate nor a collection and ids to read', remedy: 'pass the domain that owns the collection, and { collection, ids } for a read by _id or a candidate read of your own' },
  SHADOW_READ_NOT_ROUTABLE: { category: 'usage', meaning: 'in a phase where PostgreSQL is the read store (pg_read, pg_primary, pg_only), the plugin or the wrapper got a read whose filter is not by _id, which Ferry does not translate to SQL', remedy: 'read by _id ({ _id } or { _id: { $in } }), or query the mapped tables in PostgreSQL for other filters' },
  SHADOW_UNSUPPORTED_PROJECTION: { category: 'usage', meaning: 'a shadowed or routed read has a projection with operators ($slice, $elemMatch, computed fields) or mixes included and excluded fields', remedy: 'project plain fields (1s or 0s), or shadow the read with a compare of your own' },
  SHADOW_UNSUPPORTED_SORT: { category: 'usage', meaning: 'a shadowed or routed read sorts by something other than 1 or -1 (a $meta sort)', remedy: 'sort by plain fields, or shadow the read with a candidate of your own' },
  // Cutover and rollback: gates, the coherent primary flip, drills
  CUTOVER_FORCE_NEEDS_REASON: { category: 'usage', meaning: '`ferry cutover --force` was given without --reason', remedy: 'say why the failing gate may be overridden with --reason "…"; it is kept in ferry.domain_events' },
  CUTOVER_GAPS_OPEN: { category: 'problem', meaning: "moving the primary to PostgreSQL found gaps of the domain that reconcile could not close during the flip's pause; nothing changed", remedy: 'run `ferry reconcile` and look at the gaps it leaves open (ferry status), then try again' },
  CUTOVER_GATE_FAILED: { category: 'problem', meaning: 'a cutover gate failed; the message names each failing gate with its figure and threshold; nothing changed', remedy: 'satisfy the gate (or override it with --force --reason when you know why it may be passed)' },
  CUTOVER_LOCK_TIMEOUT: { category: 'problem', meaning: "the primary flip could not get the domain's lock within the lock timeout (writes held it); nothing changed", remedy: 'try again, or raise cutover.lockTimeoutMs; look for long transactions inside withPrimary' },
  CUTOVER_MONGO_WRITE_REFUSED: { category: 'problem', meaning: "a MongoDB write was refused because the collection's domain has PostgreSQL as its primary", remedy: 'write through runtime.withPrimary(domain, { mongo, pg }); the outbox feeds MongoDB' },
  CUTOVER_NOT_NEXT_PHASE: { category: 'usage', meaning: '`ferry cutover` moves forward one phase at a time, and the phase given is not the next one', remedy: 'name the next phase (the message says which), or use `ferry rollback` to step back' },
  CUTOVER_OUTBOX_UNDELIVERED: { category: 'problem', meaning: "moving the primary back to MongoDB found outbox events of the domain that could not be delivered during the flip's pause; nothing changed", remedy: 'look at the dead or retrying events (ferry status), fix their cause, `ferry outbox redrive`, then try again' },
  ROLLBACK_DRILL_FAILED: { category: 'problem', meaning: 'a rollback drill failed (a step refused, or the verification after it found differences); the failure is recorded', remedy: 'the message says which step failed and why; fix it and run the drill again' },
  ROLLBACK_FROM_PG_ONLY: { category: 'usage', meaning: 'a domain in pg_only cannot step back: MongoDB is no longer fed, so it is not complete', remedy: 'restore MongoDB from PostgreSQL first (`ferry export`), outside the cutover' },
  ROLLBACK_NOT_BACKWARD: { category: 'usage', meaning: '`ferry rollback --to` names a phase that is not before the current one', remedy: 'name an earlier phase, or use `ferry cutover` to move forward' },
  // ferry serve
  SERVE_LISTEN_FAILED: { category: 'environment', meaning: 'ferry serve could not listen on the host and port (in use, or not an address of this machine)', remedy: 'pick another --port, or free the port' },
  SERVE_TOKEN_REQUIRED: { category: 'usage', meaning: 'ferry serve was asked to listen beyond loopback without a bearer token', remedy: 'set FERRY_SERVE_TOKEN (or --token), or listen on 127.0.0.1' },
  SERVE_UNAUTHORIZED: { category: 'usage', meaning: 'a request to ferry serve lacked the right bearer token (HTTP 401; not raised by a command)', remedy: 'send Authorization: Bearer <the FERRY_SERVE_TOKEN of the server>' },
  TTL_DELETE_FAILED: { category: 'problem', meaning: 'a TTL rule could not delete expired rows (PostgreSQL refused the delete, e.g. a foreign key from another table still points at an expired row)', remedy: 'the message names the table and the cause; rows removed before it are recorded in ferry.ttl_runs; fix the cause and run `ferry ttl run` again' },
  // Querying the target
  SQL_QUERY_FAILED: { category: 'input', meaning: 'the statement given to `ferry sql` failed in PostgreSQL; the message has its error', remedy: 'fix the statement' },
  // Export
  EXPORT_BAD_FORMAT: { category: 'usage', meaning: '--format is not archive, dump, ejson or json', remedy: 'pass one of the formats the message lists' },
  EXPORT_BAD_JOURNAL: { category: 'input', meaning: "an interrupted export's journal (<to>.ferry-export.json) cannot be read", remedy: 'remove the partial export and its journal, and export again without --resume' },
  EXPORT_BAD_KEY: { category: 'internal', meaning: "a root table's primary key has a type the export cannot page by", remedy: 'report the bug with the mapping of the collection' },
  EXPORT_BAD_MANIFEST: { category: 'input', meaning: "the file beside an export that should be its manifest (<to>.manifest.json) is not one", remedy: 'export again, or move the file away if it is not Ferry’s' },
  EXPORT_NOTHING_TO_RESUME: { category: 'usage', meaning: '--resume was given but there is no interrupted export at that path', remedy: 'run the export without --resume' },
  EXPORT_RESUME_MISMATCH: { category: 'usage', meaning: 'an interrupted export was started with other options (format, gzip, database, schema or collections)', remedy: 'resume with the options the message gives, or remove the partial export and start again' },
  EXPORT_TARGET_EXISTS: { category: 'usage', meaning: 'the export path already exists (an export never overwrites)', remedy: 'choose a new path, or pass --resume to continue an interrupted export' },
  EXPORT_UNKNOWN_COLLECTION: { category: 'usage', meaning: '--only names a collection the mapping does not have', remedy: 'use the collection names the message lists' },
  // Anything else
  INTERNAL: { category: 'internal', meaning: 'an unexpected error: a bug in Ferry', remedy: 'report it with the command and the message (run with --log-level debug for the stack)' },
} as const satisfies Record<string, ErrorCodeEntry>;

/** One line of the catalogue. */
export interface ErrorCodeEntry {
  readonly category: ErrorCategory | readonly ErrorCategory[];
  readonly meaning: string;
  readonly remedy: string;
}

/**
 * Every code a `FerryError` can carry.
 *
 * @example
 * const retryable: ErrorCode[] = ['TARGET_UNREACHABLE', 'SOURCE_UNREACHABLE'];
 */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The categories a code may be raised with. */
export type CategoryOf<C extends ErrorCode> = (typeof ERROR_CODES)[C]['category'] extends infer K
  ? K extends readonly (infer E)[]
    ? E
    : K
  : never;

/** The codes that may be raised with category `K`. */
export type CodeWithCategory<K extends ErrorCategory> = {
  [C in ErrorCode]: K extends CategoryOf<C> ? C : never;
}[ErrorCode];

/**
 * The categories a code may be raised with, usual first.
 *
 * @example
 * categoriesOf('TARGET_EMBEDDED_LOCKED')   // ['environment', 'internal']
 */
export function categoriesOf(code: ErrorCode): readonly ErrorCategory[] {
  const category: ErrorCategory | readonly ErrorCategory[] = ERROR_CODES[code].category;
  return typeof category === 'string' ? [category] : category;
}
