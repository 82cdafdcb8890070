import { ObjectId } from 'bson';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isTransientError } from '../../../src/index.js';
import type { Admission } from './admission.js';
import { badRequest, EscrowError } from './errors.js';
import type { EscrowService } from './escrow-service.js';

/**
 * The HTTP API:
 * - `POST /transfers` with an `Idempotency-Key` header and `{ from, to, amountMinor }`: 201 with
 *   the booked transfer; a retry with the same key gets the same body (200), never a second booking.
 * - `GET /transfers/:key`, `GET /wallets/:id`, `GET /users/:id`, `PATCH /users/:id` `{ name }`.
 * - `GET /health`: the phases this instance follows.
 * A store that is unreachable, or an instance at its limit of requests at once (`admission`:
 * reads and writes each have their own, so a queue of transfers does not starve the reads),
 * answers 503 with `retry: true`: the request may be sent again with the same key.
 */
export function registerRoutes(
  app: FastifyInstance,
  service: EscrowService,
  admission: { readonly writes: Admission; readonly reads: Admission },
): void {
  app.setErrorHandler((error, _request, reply) => sendError(reply, error));

  app.get('/health', async () => ({ ok: true, phases: service.phases() }));

  app.post('/transfers', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || !/^[\w.:-]{8,100}$/.test(key))
      throw badRequest('an Idempotency-Key header of 8 to 100 letters, digits, _ . : - is required');
    const body = (request.body ?? {}) as { from?: unknown; to?: unknown; amountMinor?: unknown };
    const amountMinor = body.amountMinor;
    if (typeof amountMinor !== 'number' || !Number.isSafeInteger(amountMinor) || amountMinor <= 0)
      throw badRequest('amountMinor must be a positive integer (minor units)');
    const from = objectId(body.from, 'from');
    const to = objectId(body.to, 'to');
    if (from.equals(to)) throw badRequest('from and to must be different wallets');
    const { result, booked } = await admission.writes.run(() =>
      service.transfer({ key, from, to, amountMinor }),
    );
    // 201 when this request booked (part of) it; 200 when an earlier one had booked it all.
    return reply.code(booked ? 201 : 200).send(result);
  });

  app.get<{ Params: { key: string } }>('/transfers/:key', async (request, reply) => {
    const found = await admission.reads.run(() => service.findTransfer(request.params.key));
    if (found === undefined)
      return reply.code(404).send({ error: 'NOT_FOUND', message: 'no transfer with this key' });
    return found;
  });

  app.get<{ Params: { id: string } }>('/wallets/:id', async (request) =>
    admission.reads.run(() => service.wallet(objectId(request.params.id, 'id'))),
  );

  app.get<{ Params: { id: string } }>('/users/:id', async (request) =>
    admission.reads.run(() => service.user(objectId(request.params.id, 'id'))),
  );

  app.patch<{ Params: { id: string } }>('/users/:id', async (request) => {
    const name = (request.body as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200)
      throw badRequest('name must be a non-empty string of at most 200 characters');
    const id = objectId(request.params.id, 'id');
    await admission.writes.run(() => service.renameUser(id, name.trim()));
    return { id: id.toHexString(), name: name.trim() };
  });
}

function objectId(value: unknown, field: string): ObjectId {
  if (typeof value !== 'string' || !ObjectId.isValid(value) || value.length !== 24)
    throw badRequest(`${field} must be an id of 24 hex digits`);
  return ObjectId.createFromHexString(value);
}

function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof EscrowError && error.status === 503)
    return reply
      .code(503)
      .header('retry-after', '1')
      .send({ error: error.code, message: error.message, retry: true });
  if (error instanceof EscrowError)
    return reply.code(error.status).send({ error: error.code, message: error.message });
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return reply.code(status).send({ error: 'BAD_REQUEST', message: (error as Error).message });
  // Values stay out of the answer and the log: a store's message can quote a document.
  const transient = isTransientError(error);
  reply.log.error(
    { code: (error as { code?: unknown }).code, name: (error as Error).name },
    'request failed',
  );
  return reply.code(transient ? 503 : 500).send({
    error: transient ? 'UNAVAILABLE' : 'INTERNAL',
    message: 'the request failed; retry it with the same key',
    retry: true,
  });
}
