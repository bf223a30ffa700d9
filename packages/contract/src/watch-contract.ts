import { describe, expect, test } from '@jest/globals';
import type { LockSnapshot, ResourceLock } from '@baton/core';
import type { Suite } from './suite.ts';
import { deferred, waitFor, within } from './wait.ts';

/** How soon a pushed change must arrive; the push-only locks poll, if at all, far less often. */
const PUSH_BOUND_MS = 1000;
/** After a server-side break: the watch's reconnect backoff, then its re-read, still no polling. */
const RECONNECT_BOUND_MS = 5000;

/**
 * What a watch delivers, as the elector would act on it: the pushed snapshot, or — when the
 * backend says "re-read" (`undefined`) — what a read right after returns.
 */
interface Delivery {
  at: number;
  state: LockSnapshot | null;
}

/**
 * A watch on `lockName` through a lock that cannot fall back to polling, recording deliveries
 * and health, and re-reading when health comes back after a break (as the elector does).
 */
async function watchPushOnly(suite: Suite, lockName: string): Promise<{ lock: ResourceLock; deliveries: Delivery[]; health: boolean[]; stop: () => void; next(what: string, timeoutMs: number, match: (state: LockSnapshot | null) => boolean): Promise<Delivery> }> {
  const { target } = suite;
  const lock = target.createPushOnlyLock ? await target.createPushOnlyLock(lockName, 'watcher') : await suite.open(lockName, 'watcher');
  if (target.createPushOnlyLock) suite.track(lock);
  expect(typeof lock.watch).toBe('function');
  const deliveries: Delivery[] = [];
  const health: boolean[] = [];
  const waiters = new Set<{ match: (state: LockSnapshot | null) => boolean; resolve: (d: Delivery) => void }>();
  const deliver = (state: LockSnapshot | null): void => {
    const delivery = { at: performance.now(), state };
    deliveries.push(delivery);
    for (const waiter of [...waiters]) {
      if (!waiter.match(state)) continue;
      waiters.delete(waiter);
      waiter.resolve(delivery);
    }
  };
  const stop = lock.watch!({
    onChange: (snapshot) => {
      if (snapshot !== undefined) deliver(snapshot);
      else void lock.get().then(deliver, () => {});
    },
    onHealth: (ok) => {
      // Back after a break: changes may have been missed, so re-read — as the elector does.
      if (ok && health.at(-1) === false) void lock.get().then(deliver, () => {});
      health.push(ok);
    },
  });
  await waitFor(() => health.includes(true), 5000, 'the watch to become healthy');
  return {
    lock,
    deliveries,
    health,
    stop,
    next(what, timeoutMs, match) {
      // It may have arrived while the write's own answer was on its way back.
      const already = deliveries.find((d) => match(d.state));
      if (already) return Promise.resolve(already);
      const seen = deferred<Delivery>();
      waiters.add({ match, resolve: seen.resolve });
      return within(seen.promise, timeoutMs, what);
    },
  };
}

/**
 * Watch delivery (when the target declares `watch: true`), through locks that do not poll
 * within the bound (`createPushOnlyLock`), so only a push can meet it: a create, an update,
 * a deletion from outside, and a change after the server broke the watch connection.
 */
export function describeWatchContract(suite: Suite): void {
  const { target, uniqueName, open, record } = suite;
  if (!target.watch) return;

  describe('watch (push, not polling)', () => {
    test(`delivers a create and an update within ${PUSH_BOUND_MS} ms, with the stored record and version`, async () => {
      const name = uniqueName();
      const writer = await open(name, 'writer');
      const watch = await watchPushOnly(suite, name);
      try {
        const created = await writer.create(record('writer'));
        const first = await watch.next('the watch to deliver the create', PUSH_BOUND_MS, (s) => s?.version === created.version);
        expect(first.state?.record).toEqual(created.record);
        const startedAt = performance.now();
        const renewed = await writer.update(record('writer', { renewTime: created.record.renewTime + 1000 }), created.version);
        const second = await watch.next('the watch to deliver the update', PUSH_BOUND_MS, (s) => s?.version === renewed.version);
        expect(second.state?.record).toEqual(renewed.record);
        expect(second.at - startedAt).toBeLessThan(PUSH_BOUND_MS);
      } finally {
        watch.stop();
      }
    });

    if (target.deleteRecord) {
      test(`delivers a deletion made from outside within ${PUSH_BOUND_MS} ms`, async () => {
        const name = uniqueName();
        const writer = await open(name, 'writer');
        await writer.create(record('writer'));
        const watch = await watchPushOnly(suite, name);
        try {
          await target.deleteRecord!(name);
          const deleted = await watch.next('the watch to deliver the deletion', PUSH_BOUND_MS, (s) => s === null);
          expect(deleted.state).toBeNull();
        } finally {
          watch.stop();
        }
      });
    }

    if (target.interruptWatches) {
      test('after the server breaks the watch connection, the watch comes back and delivers the next change by push', async () => {
        const name = uniqueName();
        const writer = await open(name, 'writer');
        const created = await writer.create(record('writer'));
        const watch = await watchPushOnly(suite, name);
        try {
          await target.interruptWatches!();
          // Written at once, likely before the watcher noticed the break: it must reach the
          // watcher by the watch — pushed after a silent resume (a kube watch resumed from
          // its resourceVersion), or read on the recovery a backend reports after a reported
          // break (the elector re-reads then). Nothing polls.
          const startedAt = performance.now();
          const renewed = await writer.update(record('writer', { renewTime: created.record.renewTime + 1000 }), created.version);
          const delivered = await watch.next('the update after the break', RECONNECT_BOUND_MS, (s) => s?.version === renewed.version);
          expect(delivered.at - startedAt).toBeLessThan(RECONNECT_BOUND_MS);
        } finally {
          watch.stop();
        }
      });
    }
  });
}
