// HTTP helpers of the API handler: response headers every answer carries, JSON and text
// responses, Status errors, and reading request bodies with the real server's size limit.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, requestEntityTooLarge } from './status.ts';

/** The real server refuses request bodies over 3 MiB (413). */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

export type Headers = Record<string, string | string[]>;

/** What every kube-apiserver response carries: an audit id, and no caching of API answers. */
export function baseHeaders(): Record<string, string> {
  return { 'Audit-Id': randomUUID(), 'Cache-Control': 'no-cache, private' };
}

/** `Warning: 299 - "text"` headers, as kubectl and client-go print them. */
export function warningHeader(warnings: string[]): Headers {
  if (warnings.length === 0) return {};
  return { Warning: warnings.map((text) => `299 - ${JSON.stringify(text)}`) };
}

/** A JSON response with the base headers (nothing is sent once headers went out or the socket died). */
export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Headers = {}): void {
  sendEncoded(res, code, JSON.stringify(body), headers);
}

/** A response whose body is already JSON text (e.g. a stored object's memoized encoding). */
export function sendEncoded(res: ServerResponse, code: number, json: string, headers: Headers = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = `${json}\n`;
  res.writeHead(code, {
    ...baseHeaders(),
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** An API error as its Status object, with the error's own headers (e.g. Retry-After). */
export function sendStatus(res: ServerResponse, err: ApiError, headers: Headers = {}): void {
  sendJson(res, err.code, err.status, { ...err.headers, ...headers });
}

/** A plain-text response, as the health endpoints answer. */
export function sendText(res: ServerResponse, code: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(code, { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The whole request body; a body over the limit is a 413 and the connection is dropped. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(requestEntityTooLarge(MAX_BODY_BYTES));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** JSON text to a value; a syntax error is the 400 the real server's decoder gives. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

/** The media type of a request body, without parameters, lower-case ('' when absent). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}
