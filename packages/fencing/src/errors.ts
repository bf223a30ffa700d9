import { BatonError } from '@baton/core';

/**
 * A write carried a fencing token lower than one that has already written to the same
 * resource: it comes from a leader (or lock holder) that has been superseded, and was refused.
 *
 * Equal tokens are never stale: one term writes many times under the same token.
 */
export class StaleTokenError extends BatonError {
  /** The fenced resource the write was for. */
  readonly resource: string;
  /** The token the refused write carried. */
  readonly token: number;
  /** The highest token that has written to the resource (larger than `token`). */
  readonly highest: number;

  constructor(resource: string, token: number, highest: number, options?: { cause?: unknown }) {
    super('FENCING_STALE_TOKEN', `stale fencing token ${token} for "${resource}": token ${highest} has already written`, options);
    this.resource = resource;
    this.token = token;
    this.highest = highest;
  }
}

/** A fencing token that is not a positive safe integer (a missing or garbled header, a bad argument). */
export class InvalidTokenError extends BatonError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('FENCING_INVALID_TOKEN', `invalid fencing token: ${detail}`, options);
  }
}
