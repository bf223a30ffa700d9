/**
 * @packageDocumentation
 * `@baton/fencing/http` — an HTTP resource that refuses writes from superseded leaders.
 *
 * A writer sends its fencing token in the `Fencing-Token` header ({@link fencingHeaders}).
 * The fence answers 409 Conflict when a larger token has already been admitted for the same
 * resource, 428 when the header is missing (unless optional) and 400 when it is garbled;
 * otherwise the request goes on to the handler.
 *
 * With `serialize` (the default), requests for one resource are handled one at a time, each
 * checked when its turn comes and holding the turn until its response has finished. That is
 * what makes the fence exact for handlers that write asynchronously: without it, a stale
 * request admitted a moment before a newer one could still finish its write after it.
 *
 * Works with `node:http` ({@link HttpFence.handler}), Express-style middleware
 * ({@link HttpFence.middleware}) and Fastify hooks ({@link HttpFence.fastifyHook}).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidTokenError, StaleTokenError } from './errors.ts';
import { parseToken } from './token.ts';
import { TokenGuard } from './token-guard.ts';
import { Turns } from './turns.ts';

/** The header a fenced request carries its token in (header names are case-insensitive). */
export const FENCING_TOKEN_HEADER = 'fencing-token';

/** Headers for a request made under `token`: spread into fetch's or http.request's headers. */
export function fencingHeaders(token: number): Record<string, string> {
  return { [FENCING_TOKEN_HEADER]: String(token) };
}

export interface HttpFenceOptions {
  /** Where admitted tokens are kept; share one to fence a resource across routes. Default: a new guard. */
  guard?: TokenGuard;
  /** The resource a request writes to. Default: its path, without the query. */
  resource?: (request: IncomingMessage) => string;
  /** Let requests without the header through unfenced (reads, say). Default false: 428. */
  optional?: boolean;
  /** Handle one request per resource at a time (see the module documentation). Default true. */
  serialize?: boolean;
}

/** What a fence decided for one request. */
export type FenceDecision =
  | { readonly admitted: true; readonly token: number | undefined; readonly resource: string }
  | { readonly admitted: false; readonly status: 400 | 409 | 428; readonly body: Record<string, unknown> };

/** The fence in front of an HTTP resource: see the module documentation. */
export class HttpFence {
  readonly guard: TokenGuard;
  private readonly resourceOf: (request: IncomingMessage) => string;
  private readonly optional: boolean;
  private readonly turns: Turns | undefined;

  constructor(options: HttpFenceOptions = {}) {
    this.guard = options.guard ?? new TokenGuard();
    this.resourceOf = options.resource ?? ((request) => (request.url ?? '/').split('?')[0]!);
    this.optional = options.optional ?? false;
    this.turns = options.serialize === false ? undefined : new Turns();
  }

  /**
   * Decides `request`. When admitted with `serialize`, the resource stays reserved for this
   * request until `response` finishes or closes.
   */
  async decide(request: IncomingMessage, response: ServerResponse): Promise<FenceDecision> {
    const resource = this.resourceOf(request);
    const header = request.headers[FENCING_TOKEN_HEADER];
    if (header === undefined && this.optional) return { admitted: true, token: undefined, resource };
    let token: number;
    try {
      token = parseToken(header);
    } catch (error) {
      const missing = header === undefined;
      return {
        admitted: false,
        status: missing ? 428 : 400,
        body: { error: missing ? `the ${FENCING_TOKEN_HEADER} header is required` : (error as InvalidTokenError).message },
      };
    }
    const endTurn = this.turns ? await this.turns.take(resource) : undefined;
    try {
      this.guard.check(resource, token);
    } catch (error) {
      endTurn?.();
      const stale = error as StaleTokenError;
      return { admitted: false, status: 409, body: { error: 'stale fencing token', resource, token, highest: stale.highest } };
    }
    if (endTurn) {
      response.once('finish', endTurn);
      response.once('close', endTurn);
    }
    return { admitted: true, token, resource };
  }

  /** Wraps a `node:http` request handler; the handler gets the admitted token (undefined when optional and absent). */
  handler(
    handle: (request: IncomingMessage, response: ServerResponse, token: number | undefined) => void | Promise<void>,
  ): (request: IncomingMessage, response: ServerResponse) => void {
    return (request, response) => {
      void this.decide(request, response).then(async (decision) => {
        if (!decision.admitted) return refuse(response, decision);
        try {
          await handle(request, response, decision.token);
        } catch (error) {
          if (!response.headersSent) refuse(response, { status: 500, body: { error: 'handler failed' } });
          else response.destroy(error as Error);
        }
      });
    };
  }

  /** Express/Connect-style middleware: refuses stale requests, otherwise calls `next()` with `res.locals.fencingToken` set when `res.locals` exists. */
  middleware(): (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void {
    return (request, response, next) => {
      this.decide(request, response).then((decision) => {
        if (!decision.admitted) return refuse(response, decision);
        const locals = (response as ServerResponse & { locals?: Record<string, unknown> }).locals;
        if (locals) locals.fencingToken = decision.token;
        next();
      }, next);
    };
  }

  /** A Fastify `preHandler` (or `onRequest`) hook: refuses stale requests through `reply`. */
  fastifyHook(): (request: { raw: IncomingMessage }, reply: FastifyReplyLike) => Promise<void> {
    return async (request, reply) => {
      const decision = await this.decide(request.raw, reply.raw);
      if (!decision.admitted) await reply.code(decision.status).send(decision.body);
    };
  }
}

/** The part of Fastify's reply the hook uses. */
export interface FastifyReplyLike {
  raw: ServerResponse;
  code(status: number): { send(body: unknown): unknown };
}

function refuse(response: ServerResponse, refusal: { status: number; body: Record<string, unknown> }): void {
  response.writeHead(refusal.status, { 'content-type': 'application/json' }).end(JSON.stringify(refusal.body));
}
