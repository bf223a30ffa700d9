// Three electors campaign on one in-memory lock: one leads, the leader hands over
// gracefully, then the next leader is cut off from the lock and loses it by renewDeadline.
// Run: scripts/pnpm example
import { LeaderElector, MemoryLockStore } from '@baton/core';

const store = new MemoryLockStore();
const timings = { leaseDuration: '1.5s', renewDeadline: '1s', retryPeriod: '250ms' };
const t0 = performance.now();
const say = (line: string): void => console.log(`${((performance.now() - t0) / 1000).toFixed(2).padStart(6)}s  ${line}`);

const replicas = ['alpha', 'beta', 'gamma'].map((identity) => {
  const lock = store.lock('example-job', identity);
  const stop = new AbortController();
  const elector = new LeaderElector({
    lock,
    ...timings,
    callbacks: {
      onStartedLeading: async ({ fencingToken, signal }) => {
        say(`${identity} leads (fencing token ${fencingToken})`);
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        say(`${identity} stops its work (${(signal.reason as Error).message})`);
      },
      onNewLeader: (leader) => leader !== identity && say(`${identity} sees ${leader} as leader`),
    },
  });
  return { identity, lock, stop, elector, done: elector.run(stop.signal) };
});

const nextLeader = async (exclude: Set<string>) => {
  for (;;) {
    const leader = replicas.find((r) => r.elector.isLeader() && !exclude.has(r.identity));
    if (leader) return leader;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const gone = new Set<string>();
const first = await nextLeader(gone);
say(`-> ${first.identity} releases gracefully`);
let started = performance.now();
first.stop.abort();
await first.done;
gone.add(first.identity);
const second = await nextLeader(gone);
say(`-> handover took ${(performance.now() - started).toFixed(1)} ms`);

say(`-> ${second.identity} is cut off from the lock`);
started = performance.now();
second.lock.setFault('hang');
const third = await nextLeader(new Set([...gone, second.identity]));
say(`-> failover took ${(performance.now() - started).toFixed(0)} ms (lease 1.5 s)`);

for (const r of replicas) r.stop.abort();
await Promise.all(replicas.map((r) => r.done));
say(`done; ${third.identity} led last`);
