// Fault injection: latency, error rates, deterministic failures, black-holing, dropped watches and
// closed connections, optionally aimed at some requests only.

import type { ServerResponse } from 'node:http';
import { ApiError, internalError, serviceUnavailable, tooManyRequests } from './status.ts';
import type { FaultHandle, FaultRequestInfo, FaultTarget } from './types.ts';

export interface FaultHooks {
  dropWatches(): void;
  closeConnections(): void;
}

export type FaultDecision =
  | { kind: 'none'; latencyMs: number }
  | { kind: 'error'; latencyMs: number; error: ApiError }
  | { kind: 'blackhole' };

function errorFor(status: 500 | 503 | 429, retryAfterSeconds: number): ApiError {
  if (status === 429) return tooManyRequests(retryAfterSeconds);
  if (status === 500) return internalError('injected fault');
  const e = serviceUnavailable();
  if (retryAfterSeconds > 0) return new ApiError(e.status, { 'Retry-After': String(retryAfterSeconds) });
  return e;
}

function matchOne(want: string | string[] | undefined, got: string): boolean {
  if (want === undefined) return true;
  return Array.isArray(want) ? want.includes(got) : want === got;
}

/**
 * The faults tests set (FaultHandle) and the decision per request: blackhole, an injected error,
 * added latency, or none — applied only to requests the target matches.
 */
export class Faults implements FaultHandle {
  private latencyMs = 0;
  private errorRate = 0;
  private errorStatus: 500 | 503 | 429 = 503;
  private retryAfterSeconds = 1;
  private failCount = 0;
  private failStatus: 500 | 503 | 429 = 503;
  private failRetryAfter = 1;
  private blackhole = false;
  private target: ((req: FaultRequestInfo) => boolean) | null = null;
  private readonly held = new Set<ServerResponse>();
  private readonly hooks: FaultHooks;
  private readonly random: () => number;

  constructor(hooks: FaultHooks, random: () => number = Math.random) {
    this.hooks = hooks;
    this.random = random;
  }

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  setErrorRate(rate: number, status: 500 | 503 | 429 = 503, retryAfterSeconds = 1): void {
    this.errorRate = Math.min(1, Math.max(0, rate));
    this.errorStatus = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  failNext(count: number, status: 500 | 503 | 429 = 503, retryAfterSeconds = 1): void {
    this.failCount = Math.max(0, Math.floor(count));
    this.failStatus = status;
    this.failRetryAfter = retryAfterSeconds;
  }

  setBlackhole(on: boolean): void {
    this.blackhole = on;
    if (!on) this.releaseHeld();
  }

  dropWatches(): void {
    this.hooks.dropWatches();
  }

  closeConnections(): void {
    this.hooks.closeConnections();
  }

  setTarget(target?: FaultTarget | ((req: FaultRequestInfo) => boolean) | null): void {
    if (!target) this.target = null;
    else if (typeof target === 'function') this.target = target;
    else {
      const t = target;
      this.target = (r) =>
        matchOne(t.verb, r.verb) &&
        matchOne(t.resource, r.resource) &&
        matchOne(t.namespace, r.namespace) &&
        matchOne(t.name, r.name) &&
        matchOne(t.user, r.user) &&
        (t.userAgent === undefined ||
          (typeof t.userAgent === 'string' ? r.userAgent.includes(t.userAgent) : t.userAgent.test(r.userAgent)));
    }
  }

  reset(): void {
    this.latencyMs = 0;
    this.errorRate = 0;
    this.failCount = 0;
    this.blackhole = false;
    this.target = null;
    this.releaseHeld();
  }

  /** What to do with this request. */
  decide(req: FaultRequestInfo): FaultDecision {
    if (this.target && !this.target(req)) return { kind: 'none', latencyMs: 0 };
    if (this.blackhole) return { kind: 'blackhole' };
    if (this.failCount > 0) {
      this.failCount--;
      return { kind: 'error', latencyMs: this.latencyMs, error: errorFor(this.failStatus, this.failRetryAfter) };
    }
    if (this.errorRate > 0 && this.random() < this.errorRate) {
      return { kind: 'error', latencyMs: this.latencyMs, error: errorFor(this.errorStatus, this.retryAfterSeconds) };
    }
    return { kind: 'none', latencyMs: this.latencyMs };
  }

  /** Keeps a black-holed request open, unanswered. */
  hold(res: ServerResponse): void {
    this.held.add(res);
    res.once('close', () => this.held.delete(res));
  }

  /** Destroys the connections of every held request. */
  releaseHeld(): void {
    for (const res of [...this.held]) {
      this.held.delete(res);
      res.socket?.destroy();
      res.destroy();
    }
  }
}
