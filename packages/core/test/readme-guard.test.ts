// The guard-each-unit-of-work example of the README, compiled by `pnpm typecheck` and run here
// on the fake clock. The region between the markers must appear in README.md verbatim.
import { afterEach, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { FakeClock, LeaderElector, LeaseExpiredError, MemoryLockStore } from '@baton/core';

interface Job {
  id: number;
}

/** Stands for any resource the leader writes to; here, a list. */
class Ledger {
  readonly entries: Array<{ id: number; fencingToken: number }> = [];
  append(job: Job, fencingToken: number): void {
    this.entries.push({ id: job.id, fencingToken });
  }
}

const jobs = new (class Jobs implements AsyncIterable<Job> {
  private waiting: ((job: Job) => void) | undefined;
  push(job: Job): void {
    this.waiting?.(job);
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Job> {
    for (;;) yield await new Promise<Job>((resolve) => (this.waiting = resolve));
  }
})();
const ledger = new Ledger();

// readme:begin
import { LockLostError, type LeaderTerm } from '@baton/core';

// Leader-only work, one unit per job: check, then write, with no await in between. After a
// pause (SIGSTOP, a long GC, a blocked event loop) the first unit throws instead of writing
// on a lease that may already be someone else's — before the term's timers have even run.
async function lead(term: LeaderTerm): Promise<void> {
  for await (const job of jobs) {          // the process may be paused while it waits here
    term.assertLeading();                  // never awaits; throws a LockLostError if not leading
    ledger.append(job, term.fencingToken); // right after the check, still synchronous
  }
}

// The elector's callback: a lost term ends the work quietly; anything else is reported.
const onStartedLeading = (term: LeaderTerm): Promise<void> =>
  lead(term).catch((error: unknown) => {
    if (!(error instanceof LockLostError)) throw error;
  });
// readme:end

let stop = new AbortController();
let done: Promise<void> = Promise.resolve();
afterEach(async () => {
  stop.abort();
  await done;
  stop = new AbortController();
});

test('the README shows the example verbatim', () => {
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  const region = source.slice(source.indexOf('// readme:begin\n') + 16, source.indexOf('// readme:end'));
  // The README also declares what this test defines (`jobs`, `ledger`), so that the example
  // compiles on its own in the consumer test; those declarations are all it may add.
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => !/^declare (const|function) (jobs|ledger)\b/.test(line))
    .join('\n')
    .replace(/(from '@baton\/core';\n)\n\n/, '$1\n');
  expect(region.length).toBeGreaterThan(200);
  expect(readme).toContain(region);
});

test('after a pause the first guarded unit throws LeaseExpiredError, writes nothing, and ends the work quietly', async () => {
  const clock = new FakeClock();
  const failures: unknown[] = [];
  let term!: LeaderTerm;
  let workEnded = false;
  const elector = new LeaderElector({
    lock: new MemoryLockStore().lock('billing', 'replica-1'),
    clock,
    onError: (error) => failures.push(error),
    callbacks: {
      onStartedLeading: (t) => {
        term = t;
        return onStartedLeading(t).finally(() => (workEnded = true));
      },
    },
  });
  done = elector.run(stop.signal);
  await clock.advance(0);
  expect(elector.isLeader()).toBe(true);
  for (let id = 1; id <= 3; id++) {
    jobs.push({ id });
    await clock.advance(1000);
  }
  expect(ledger.entries.map((e) => e.id)).toEqual([1, 2, 3]);
  clock.jump(20_000); // SIGSTOP for 20 s, then SIGCONT: no timer has run yet
  jobs.push({ id: 4 }); // the first event after resuming
  await new Promise((resolve) => setImmediate(resolve));
  expect(ledger.entries.map((e) => e.id)).toEqual([1, 2, 3]);
  expect(workEnded).toBe(true);
  expect(term.signal.aborted).toBe(false); // it was the check, not the timers, that stopped it
  expect(() => term.assertLeading()).toThrow(LeaseExpiredError);
  await clock.advance(0);
  expect(term.signal.aborted).toBe(true);
  expect(failures).toEqual([]);
});
