/**
 * The app's own errors: each carries the HTTP status and a stable code the client can act on.
 * (Ferry's `FerryError` is Ferry's; an application keeps its errors to itself.)
 */
export class EscrowError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EscrowError';
  }
}

/** 404: the wallet or user does not exist. */
export const notFound = (what: string, id: string) =>
  new EscrowError(404, 'NOT_FOUND', `${what} ${id} does not exist`);

/** 422: the debit would take the wallet below zero; nothing was booked. */
export const insufficientFunds = (wallet: string) =>
  new EscrowError(
    422,
    'INSUFFICIENT_FUNDS',
    `wallet ${wallet} cannot cover the transfer; nothing was booked`,
  );

/** 400: the request itself is wrong, and retrying it unchanged will not help. */
export const badRequest = (message: string) => new EscrowError(400, 'BAD_REQUEST', message);

/** 409: the idempotency key was used before for a different transfer. */
export const keyReused = (key: string) =>
  new EscrowError(
    409,
    'IDEMPOTENCY_KEY_REUSED',
    `idempotency key ${key} was used for a different transfer; use a new key for a new transfer`,
  );

/** 503: the instance runs as many requests as it takes at once; retry (with the same key). */
export const busy = () =>
  new EscrowError(
    503,
    'BUSY',
    'the instance is at its limit of requests at once; retry it with the same key',
  );
