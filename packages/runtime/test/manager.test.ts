import { MemoryLockStore } from '@baton/core';
import { describe, expect, it } from '@jest/globals';
import { ContainerModule } from 'inversify';
import { loadConfig } from '../src/config/load.ts';
import type { BatonConfigInput } from '../src/config/schema.ts';
import { createContainer } from '../src/container.ts';
import { Manager } from '../src/manager.ts';
import { RUNNABLE, type Runnable } from '../src/registry.ts';
import { uniqueName, waitFor, within } from './support/process.ts';

const FAST = { leaseDuration: 1_000, renewDeadline: 700, retryPeriod: 150 };

async function config(overrides: Partial<BatonConfigInput> & Record<string, unknown> = {}) {
  return loadConfig({
    env: {},
    values: { backend: 'memory', leaderElectionID: uniqueName('mgr'), ...FAST, http: { enabled: false }, ...overrides },
  });
}

/** A runnable that records its life and runs until its signal aborts (taking `stopMs` to stop). */
function probe(name: string, needLeaderElection: boolean, stopMs = 0) {
  const log: string[] = [];
  let runs = 0;
  let running = false;
  const runnable: Runnable = {
    name,
    needLeaderElection,
    start: async (signal, context) => {
      runs++;
      running = true;
      log.push(`start ${context.identity} ${context.fencingToken ?? '-'}`);
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      if (stopMs > 0) await new Promise((resolve) => setTimeout(resolve, stopMs));
      running = false;
      log.push('stop');
    },
  };
  return {
    runnable,
    log,
    get runs() {
      return runs;
    },
    get running() {
      return running;
    },
  };
}

describe('Manager', () => {
  it('starts always-on runnables at once and leader-only ones on election', async () => {
    const container = createContainer();
    const loaded = await config({ identity: 'a' });
    const always = probe('always', false);
    const leaderOnly = probe('leader', true);
    const manager = new Manager({ config: loaded, container, runnables: [always.runnable, leaderOnly.runnable] });
    const stop = new AbortController();
    const done = manager.start(stop.signal);
    await within(manager.elected, 5_000, 'election');
    await waitFor(() => always.running && leaderOnly.running, 2_000, 'both runnables');
    expect(leaderOnly.log[0]).toBe('start a 1');
    expect(always.log[0]).toBe('start a -');
    expect(manager.isLeader()).toBe(true);
    expect(manager.getLeader()).toBe('a');
    stop.abort();
    await done;
    expect(always.running || leaderOnly.running).toBe(false);
  });

  it('runs leader-only work on one replica at a time and hands over on stop', async () => {
    const container = createContainer();
    const name = uniqueName('handover');
    const a = probe('work', true);
    const b = probe('work', true);
    const managerA = new Manager({ config: await config({ leaderElectionID: name, identity: 'a' }), container, runnables: [a.runnable] });
    const managerB = new Manager({ config: await config({ leaderElectionID: name, identity: 'b' }), container, runnables: [b.runnable] });
    const stopA = new AbortController();
    const stopB = new AbortController();
    const doneA = managerA.start(stopA.signal);
    await within(managerA.elected, 5_000, 'a elected');
    const doneB = managerB.start(stopB.signal);
    await waitFor(() => managerB.getLeader() === 'a', 2_000, 'b to see a');
    expect(b.runs).toBe(0);

    stopA.abort();
    await doneA;
    await within(managerB.elected, 5_000, 'b elected after a released');
    expect(a.running).toBe(false);
    stopB.abort();
    await doneB;
  });

  it('stops leader-only work, awaiting it, before the lease is released', async () => {
    const store = new MemoryLockStore();
    const container = createContainer({ memoryStore: store });
    const loaded = await config({ identity: 'a', gracePeriod: '2s' });
    const holderWhenStopped: string[] = [];
    const lock = store.lock(loaded.config.leaderElectionID, 'observer');
    const runnable: Runnable = {
      start: async (signal) => {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        await new Promise((resolve) => setTimeout(resolve, 200));
        holderWhenStopped.push((await lock.get())!.record.holderIdentity);
      },
    };
    const manager = new Manager({ config: loaded, container, runnables: [runnable] });
    const stop = new AbortController();
    const done = manager.start(stop.signal);
    await within(manager.elected, 5_000, 'election');
    stop.abort();
    await done;
    expect(holderWhenStopped).toEqual(['a']);
    expect((await lock.get())!.record.holderIdentity).toBe('');
  });

  it('stops leader-only work when leadership is lost and starts it again on re-election', async () => {
    const store = new MemoryLockStore();
    const loaded = await config({ identity: 'a' });
    const lock = store.lock(loaded.config.leaderElectionID, 'a');
    const work = probe('work', true);
    const manager = new Manager({ config: loaded, lock, runnables: [work.runnable] });
    const stop = new AbortController();
    const done = manager.start(stop.signal);
    await within(manager.elected, 5_000, 'election');
    await waitFor(() => work.running, 2_000, 'work running');

    lock.setFault('unavailable');
    await waitFor(() => !work.running, 3_000, 'work stopped after the lease could not be renewed');
    expect(manager.isLeader()).toBe(false);
    lock.setFault(undefined);
    await waitFor(() => work.runs === 2 && work.running, 5_000, 'work started again');
    expect(work.log).toEqual(['start a 1', 'stop', 'start a 2']);
    stop.abort();
    await done;
  });

  it('tells leader-only work how soon its lock may pass on: leaseDuration, or the lock\'s silentHolderTimeoutMs when shorter', async () => {
    for (const [silent, expected] of [[undefined, 15_000], [9_000, 9_000], [60_000, 15_000]] as const) {
      const store = new MemoryLockStore();
      const loaded = await config({ identity: 'a', leaseDuration: '15s', renewDeadline: '10s', retryPeriod: '2s' });
      const lock = Object.assign(store.lock(loaded.config.leaderElectionID, 'a'), { silentHolderTimeoutMs: silent });
      let seen: number | undefined;
      const stop = new AbortController();
      const manager = new Manager({
        config: loaded,
        lock,
        runnables: [{ needLeaderElection: true, start: (_signal, context) => void (seen = context.leaseBoundMs) }],
      });
      const done = manager.start(stop.signal);
      await within(manager.elected, 5_000, 'election');
      await waitFor(() => seen !== undefined, 2_000, 'the runnable to start');
      expect(seen).toBe(expected);
      stop.abort();
      await done;
    }
  });

  it('runs everything at once without leader election', async () => {
    const work = probe('work', true);
    const manager = new Manager({ config: await config({ leaderElection: false, identity: 'solo' }), runnables: [work.runnable] });
    const stop = new AbortController();
    const done = manager.start(stop.signal);
    await within(manager.elected, 1_000, 'elected at once');
    await waitFor(() => work.running, 1_000, 'work');
    expect(manager.isLeader()).toBe(true);
    expect(manager.getLeader()).toBe('solo');
    stop.abort();
    await done;
    expect(work.log).toEqual(['start solo -', 'stop']);
  });

  it('takes runnables bound in the container', async () => {
    const work = probe('bound', true);
    const always = probe('bound-always', false);
    const container = createContainer({
      modules: [
        new ContainerModule(({ bind }) => {
          bind(RUNNABLE).toConstantValue(work.runnable);
          bind(RUNNABLE).toConstantValue(always.runnable);
        }),
      ],
    });
    const manager = new Manager({ config: await config(), container });
    const stop = new AbortController();
    const done = manager.start(stop.signal);
    await waitFor(() => work.running && always.running, 5_000, 'bound runnables');
    stop.abort();
    await done;
  });

  it('stops everything when a runnable fails, and rejects with its error', async () => {
    const store = new MemoryLockStore();
    const loaded = await config({ identity: 'f' });
    const other = probe('other', false);
    const manager = new Manager({
      config: loaded,
      container: createContainer({ memoryStore: store }),
      runnables: [
        other.runnable,
        {
          name: 'broken',
          start: async () => {
            throw new Error('boom');
          },
        },
      ],
    });
    await expect(within(manager.start(), 5_000, 'manager to stop')).rejects.toThrow('boom');
    expect(other.log).toEqual(['start f -', 'stop']);
    expect((await store.lock(loaded.config.leaderElectionID, 'x').get())!.record.holderIdentity).toBe('');
    expect(() => manager.add(other.runnable)).toThrow('already started');
  });

  it('serves /leader, /healthz, /readyz and /metrics', async () => {
    const loaded = await config({ identity: 'web', http: { enabled: true, host: '127.0.0.1', port: 0 } });
    const manager = new Manager({ config: loaded, container: createContainer() });
    const stop = new AbortController();
    const done = manager.start(stop.signal);
    await within(manager.elected, 5_000, 'election');
    const url = manager.httpUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const leader = await fetch(`${url}/leader`);
    expect(leader.headers.get('content-type')).toBe('application/json');
    expect(await leader.json()).toEqual({ name: 'web', identity: 'web', isLeader: true, lock: `memory ${loaded.config.leaderElectionID}` });
    expect(await (await fetch(`${url}/healthz`)).text()).toBe('ok\n');
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(`leader_election_master_status{name="${loaded.config.leaderElectionID}"} 1`);
    expect(metrics).toContain('baton_leader_election_acquire_duration_seconds_count');
    expect(metrics).toContain('# TYPE baton_leader_election_transitions_total counter');
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/leader`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${url}/leader`, { method: 'HEAD' })).status).toBe(200);
    await waitFor(async () => (await (await fetch(`${url}/metrics`)).text()).includes('baton_leader_election_renew_duration_seconds_count'), 3_000, 'a renewal');
    stop.abort();
    await done;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('fails to start, cleanly, when the port is taken', async () => {
    const first = new Manager({ config: await config({ http: { enabled: true, host: '127.0.0.1', port: 0 } }) });
    const stop = new AbortController();
    const done = first.start(stop.signal);
    await within(first.elected, 5_000, 'election');
    const port = Number(new URL(first.httpUrl!).port);
    const second = new Manager({ config: await config({ http: { enabled: true, host: '127.0.0.1', port } }) });
    await expect(second.start()).rejects.toThrow(`cannot serve HTTP on 127.0.0.1:${port}: the port is in use`);
    await expect(second.start()).rejects.toThrow('starts once');
    stop.abort();
    await done;
  });
});
