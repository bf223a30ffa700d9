import http from 'node:http';
import { fencingHeaders } from '@baton/fencing/http';
import type { WriteBody } from './resource.ts';

/** How a write to the protected resource ended, as its writer records it. */
export interface WriteOutcome {
  /** True: admitted by the fence; false: refused (409, a stale token); null: no answer. */
  accepted: boolean | null;
  error?: string;
}

/** A write with no answer after this long is unanswered. */
const WRITE_TIMEOUT_MS = 2_000;

/**
 * `node:http`, not `fetch`: a process's first `fetch` loads undici first, 120–180 ms on a
 * loaded 2-core VM against 13–15 ms for a first `http.request`. A sidecar command starts
 * when its term starts, so that delay held a new leader's first write (its token's first
 * word to the fence) back for as long, and a stale leader woken meanwhile wrote first.
 * Writers exit with `process.exit`, so the kept-alive connection never holds one open.
 */
const agent = new http.Agent({ keepAlive: true });

/**
 * One write to the protected resource, its token in the `Fencing-Token` header as any fenced
 * writer sends it. Never rejects: an unreachable resource or a timeout is an unanswered write.
 * Not aborted when the writer's term ends: a write in flight still arrives, as it would in a
 * real system, and the fence has to catch it.
 */
export function postWrite(url: string, write: WriteBody): Promise<WriteOutcome> {
  const body = JSON.stringify(write);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: WriteOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...fencingHeaders(write.token), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        response.on('error', (error) => settle({ accepted: null, error: error.message }));
        response.on('end', () => {
          if (response.statusCode === 200) settle({ accepted: true });
          else if (response.statusCode === 409) settle({ accepted: false });
          else settle({ accepted: null, error: `HTTP ${response.statusCode}` });
        });
      },
    );
    request.setTimeout(WRITE_TIMEOUT_MS, () => request.destroy(new Error(`no answer within ${WRITE_TIMEOUT_MS} ms`)));
    request.on('error', (error) => settle({ accepted: null, error: error.message }));
    request.end(body);
  });
}
