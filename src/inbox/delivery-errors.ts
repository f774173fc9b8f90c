// Two kinds of trouble while processing a delivery. An ItemError is about the data of one change or
// item (no metadata, no message id, no sender): it is recorded in webhook_errors and the rest of the
// delivery goes on. Anything else (a database error, a bug) fails the whole row, which is retried
// with backoff and then parked; a PermanentDeliveryError skips the retries (the body can never parse).

export class ItemError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ItemError';
    this.code = code;
  }
}

export class PermanentDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentDeliveryError';
  }
}
