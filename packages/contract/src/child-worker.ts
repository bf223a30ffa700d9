// One worker process of the contract's cross-process mutual-exclusion case (run by
// `runChildWorkers`, never imported). It makes its locks with the target's own module, takes
// the lock `rounds` times, and inside the critical section:
// - claims an "inside" marker file exclusively (O_EXCL): if another process holds it, two
//   processes are inside at once — recorded as an overlap;
// - reads the counter file, holds the section for `holdMs`, writes the counter + 1;
// - appends its fencing token to the entry log (the log's order is the order of entry).
// Argument: one JSON object (see ChildWorkerJob in child-process-contract.ts).
import { appendFileSync, openSync, closeSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { DistributedLocks } from '@baton/core';
import type { ResourceLock } from '@baton/core';

interface Job {
  module: string;
  options: unknown;
  lockName: string;
  identity: string;
  rounds: number;
  holdMs: number;
  dir: string;
  timings: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const made = (await import(job.module)) as {
  createLock(lockName: string, identity: string, options: unknown): ResourceLock | Promise<ResourceLock>;
  close?(): Promise<void>;
};
const opened: ResourceLock[] = [];
const locks = new DistributedLocks({
  identity: job.identity,
  leaseDuration: job.timings.leaseDurationMs,
  renewDeadline: job.timings.renewDeadlineMs,
  retryPeriod: job.timings.retryPeriodMs,
  lockFor: async (name, identity) => {
    const lock = await made.createLock(name, identity, job.options);
    opened.push(lock);
    return lock;
  },
});
// A cold process's first call (TLS, HTTP/2 or gRPC set-up, JIT) can outlast an attempt's
// deadline; reach the backend once before contending, as a service does at start-up.
const probe = await made.createLock(job.lockName, `${job.identity}-warm-up`, job.options);
opened.push(probe);
await probe.get().catch(() => probe.get());
const marker = `${job.dir}/inside`;
const counter = `${job.dir}/counter`;
for (let round = 0; round < job.rounds; round++) {
  await locks.withLock(
    job.lockName,
    async (held) => {
      let fd: number | undefined;
      try {
        fd = openSync(marker, 'wx');
      } catch {
        appendFileSync(`${job.dir}/overlaps`, `${job.identity} round ${round}\n`);
      }
      appendFileSync(`${job.dir}/entries`, `${held.fencingToken} ${job.identity}\n`);
      const value = Number(readFileSync(counter, 'utf8'));
      await new Promise((resolve) => setTimeout(resolve, job.holdMs));
      writeFileSync(counter, String(value + 1));
      if (fd !== undefined) {
        closeSync(fd);
        unlinkSync(marker);
      }
    },
    { timeout: 60_000 },
  );
}
locks.close();
await Promise.all(opened.map((lock) => lock.close?.()));
await made.close?.();
process.exit(0);
