// Shared test helpers: raw HTTP against the fake server, reading API errors from client-node,
// and reading watch streams with event-driven waits and deadlines (never sleeping to wait).

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ApiException } from '@kubernetes/client-node';
import type { FakeApiServer } from '../src/index.ts';

/** Parsed JSON of unknown shape; tests assert on it field by field. */
export type Json = any;

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: Json;
}

/** One HTTP request with the admin token (or `token`, or none with token: null). */
export async function raw(
  server: FakeApiServer,
  method: string,
  path: string,
  opts: { body?: unknown; contentType?: string; token?: string | null; accept?: string } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? server.adminToken : opts.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
  if (opts.accept) headers.Accept = opts.accept;
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface CaughtApiError {
  code: number;
  body: Json;
}

/** Awaits a client-node call that must fail, and returns its HTTP code and parsed Status. */
export async function apiError(p: Promise<unknown>): Promise<CaughtApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) {
      const body = typeof e.body === 'string' && e.body ? JSON.parse(e.body) : e.body;
      return { code: e.code, body };
    }
    throw e;
  }
  throw new Error('expected the call to fail');
}

/** Reads a newline-delimited JSON watch stream. */
export class WatchReader {
  readonly events: { type: string; object: Json }[] = [];
  ended = false;
  status = 0;
  private readonly controller = new AbortController();
  private waiters: (() => void)[] = [];
  readonly done: Promise<void>;

  constructor(server: FakeApiServer, path: string, opts: { token?: string; accept?: string } = {}) {
    const headers: Record<string, string> = { Authorization: `Bearer ${opts.token ?? server.adminToken}` };
    if (opts.accept) headers.Accept = opts.accept;
    this.done = (async () => {
      try {
        const res = await fetch(`${server.url}${path}`, { headers, signal: this.controller.signal });
        this.status = res.status;
        const reader = res.body!.getReader();
        const decoder = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (line.trim()) this.events.push(JSON.parse(line));
          }
          this.notify();
        }
      } catch {
        // aborted or the connection was cut
      } finally {
        this.ended = true;
        this.notify();
      }
    })();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `n` events have arrived (or the stream ends). */
  async waitFor(n: number, ms = 5000): Promise<{ type: string; object: Json }[]> {
    const deadline = Date.now() + ms;
    while (this.events.length < n && !this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} watch events, got ${this.events.length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.events;
  }

  async waitForEnd(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the watch to end');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}

export const RFC3339_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
export const MICROTIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The kubectl binary the kubectl suites drive (`KUBECTL` overrides; `scripts/setup` installs one). */
export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs kubectl against a kubeconfig, with HOME and the discovery cache in `dir` so no user
 * configuration leaks in; resolves (never rejects) with the exit code and output.
 */
export function runKubectl(kubeconfig: string, dir: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      KUBECTL,
      ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args],
      { timeout: opts.timeoutMs ?? 20_000, env: { ...process.env, HOME: dir, KUBECONFIG: '' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
