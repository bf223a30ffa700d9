import { fencingHeaders } from '@baton/fencing/http';
import type { WriteBody } from './resource.ts';

/** How a write to the protected resource ended, as its writer records it. */
export interface WriteOutcome {
  /** True: admitted by the fence; false: refused (409, a stale token); null: no answer. */
  accepted: boolean | null;
  error?: string;
}

/**
 * One write to the protected resource, its token in the `Fencing-Token` header as any fenced
 * writer sends it. Never rejects: an unreachable resource or a timeout is an unanswered write.
 * Not aborted when the writer's term ends: a write in flight still arrives, as it would in a
 * real system, and the fence has to catch it.
 */
export async function postWrite(url: string, write: WriteBody): Promise<WriteOutcome> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...fencingHeaders(write.token), 'content-type': 'application/json' },
      body: JSON.stringify(write),
      signal: AbortSignal.timeout(2_000),
    });
    await response.arrayBuffer();
    if (response.status === 200) return { accepted: true };
    if (response.status === 409) return { accepted: false };
    return { accepted: null, error: `HTTP ${response.status}` };
  } catch (e) {
    return { accepted: null, error: String((e as Error)?.message ?? e) };
  }
}
