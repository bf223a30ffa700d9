import { Agent as HttpAgent } from 'node:http';
import { Agent } from 'node:https';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { PermissionDeniedError } from '@baton/core';
import { waitFor } from '@baton/contract';
import { startFakeApiServer } from '@baton/fake-kube-apiserver';
import type { FakeApiServer } from '@baton/fake-kube-apiserver';
import { LeaseLockFactory } from '../src/index.ts';
import { FAST, runElector } from './elector-probe.ts';
import type { ElectorProbe } from './elector-probe.ts';

let fake: FakeApiServer;
const probes: ElectorProbe[] = [];
const factories: LeaseLockFactory[] = [];
let seq = 0;
const prefix = (): string => `shared-${process.pid}-${++seq}`;
const factory = (server: FakeApiServer = fake, token?: string): LeaseLockFactory => {
  const made = new LeaseLockFactory({ kubeConfig: token ? server.kubeConfigFor(token) : server.kubeConfig, namespace: 'default', events: false });
  factories.push(made);
  return made;
};
const start = (lock: Parameters<typeof runElector>[0]): ElectorProbe => {
  const probe = runElector(lock);
  probes.push(probe);
  return probe;
};
const watchRequests = (server: FakeApiServer): number => server.requests().filter((r) => r.verb === 'watch').length;

beforeAll(async () => {
  fake = await startFakeApiServer();
});
afterEach(async () => {
  fake.faults.reset();
  await Promise.all(probes.splice(0).map((p) => p.stop()));
  await Promise.all(factories.splice(0).map((f) => f.close()));
});
afterAll(async () => {
  await fake.stop();
});

describe('one watch per factory and namespace', () => {
  test('twenty elections of one factory lead over one watch stream; a lock created later is served by it', async () => {
    const leases = factory();
    const name = prefix();
    const leaders = Array.from({ length: 20 }, (_, i) => start(leases.lock(`${name}-${i}`, `leader-${i}`)));
    await waitFor(() => leaders.every((p) => p.elector.isLeader()), 10_000, 'all twenty to lead');
    await waitFor(() => leases.watchStreams === 1, 5_000, 'the per-name stream to give way to the namespace stream');
    expect(leases.watchStreams).toBe(1);

    // A follower created now, on a name already watched, hears the release from the same stream.
    const watchesBefore = watchRequests(fake);
    const late = start(leases.lock(`${name}-0`, 'late'));
    await waitFor(() => late.elector.getLeader() === 'leader-0', 5_000, 'the late lock to see the leader');
    await leaders[0]!.stop();
    const releasedAt = performance.now();
    await waitFor(() => late.elector.isLeader(), 5_000, 'the late lock to take over');
    expect(performance.now() - releasedAt).toBeLessThan(FAST.leaseDuration);
    // …and so is a lock on a new name.
    const fresh = start(leases.lock(`${name}-new`, 'fresh'));
    await waitFor(() => fresh.elector.isLeader(), 5_000, 'a lock on a new name to lead');
    expect(watchRequests(fake)).toBe(watchesBefore);
    expect(leases.watchStreams).toBe(1);
  });

  test('your own agent carries every request and watch, requests stay within maxConnections, and closing the factory leaves it open', async () => {
    const opened: Socket[] = [];
    class CountingAgent extends Agent {
      override createConnection(...args: Parameters<Agent['createConnection']>) {
        const socket = super.createConnection(...args) as Socket;
        opened.push(socket);
        return socket;
      }
    }
    const agent = new CountingAgent({ keepAlive: true });
    const leases = new LeaseLockFactory({ kubeConfig: fake.kubeConfig, namespace: 'default', events: false, agent, maxConnections: 2 });
    factories.push(leases);
    const name = prefix();
    const leaders = Array.from({ length: 5 }, (_, i) => start(leases.lock(`${name}-${i}`, `leader-${i}`)));
    await waitFor(() => leaders.every((p) => p.elector.isLeader()), 10_000, 'all five to lead through the agent');
    await waitFor(() => leases.watchStreams === 1, 5_000, 'one namespace watch');
    // Requests through 2 connections at most, plus those of the watch streams (per name, then the namespace's).
    expect(opened.length).toBeGreaterThan(0);
    expect(opened.length).toBeLessThanOrEqual(2 + 5 + 1);
    await Promise.all(probes.splice(0).map((p) => p.stop()));
    await leases.close();
    expect(opened.some((socket) => !socket.destroyed)).toBe(true);
    agent.destroy();
  });

  test('an agent that limits its sockets is refused up front: watch streams would starve the renewals', () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    expect(() => new LeaseLockFactory({ kubeConfig: fake.kubeConfig, namespace: 'default', events: false, agent })).toThrow(
      expect.objectContaining({ name: 'ConfigError', message: expect.stringContaining('agent: must not limit sockets (maxSockets 2)') }),
    );
    agent.destroy();
  });

  test('an agent for the wrong protocol is refused up front, naming both', () => {
    const agent = new HttpAgent({ keepAlive: true });
    expect(() => new LeaseLockFactory({ kubeConfig: fake.kubeConfig, namespace: 'default', events: false, agent })).toThrow(
      expect.objectContaining({ name: 'ConfigError', message: expect.stringMatching(/agent: is an agent for http, the API server at https:\/\/.* needs https/) }),
    );
    agent.destroy();
  });

  test('the watch stops when the last lock\'s watch ends, and the factory closes its connections', async () => {
    const leases = factory();
    const name = prefix();
    const a = start(leases.lock(`${name}-a`, 'a'));
    const b = start(leases.lock(`${name}-b`, 'b'));
    await waitFor(() => a.elector.isLeader() && b.elector.isLeader(), 5_000, 'both to lead');
    await a.stop();
    expect(leases.watchStreams).toBe(1);
    await b.stop();
    expect(leases.watchStreams).toBe(0);
    await leases.close();
    await waitFor(() => fake.openWatchCount() === 0, 5_000, 'the server to see no watch');
  });

  test('a Role restricted by resourceNames: the namespace watch is refused, each lock is watched by name', async () => {
    const name = prefix();
    const names = [`${name}-a`, `${name}-b`];
    const server = await startFakeApiServer({
      tokens: {
        named: {
          user: 'named',
          rules: [
            { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'], namespaces: ['default'] },
            { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'update'], resourceNames: names, namespaces: ['default'] },
          ],
        },
      },
    });
    try {
      const leases = factory(server, 'named');
      const a = start(leases.lock(names[0]!, 'a'));
      const b = start(leases.lock(names[1]!, 'b'));
      await waitFor(() => a.elector.isLeader() && b.elector.isLeader(), 5_000, 'both to lead');
      await waitFor(() => leases.watchStreams === 2, 5_000, 'one stream per name');
      const follower = start(leases.lock(names[0]!, 'follower'));
      await waitFor(() => follower.elector.getLeader() === 'a', 5_000, 'the follower to see a');
      await a.stop();
      const releasedAt = performance.now();
      await waitFor(() => follower.elector.isLeader(), 5_000, 'the follower to take over');
      expect(performance.now() - releasedAt).toBeLessThan(FAST.leaseDuration);
      // Nothing was refused (timeouts on this shared machine are another matter).
      expect([a, b, follower].flatMap((p) => p.errors).filter((e) => e instanceof PermissionDeniedError)).toEqual([]);
      await Promise.all(probes.splice(0).map((p) => p.stop()));
    } finally {
      await server.stop();
    }
  });

  test('a watch resumed after too many changes (410 Gone) relists and keeps serving handovers', async () => {
    const server = await startFakeApiServer({ watchHistorySize: 3 });
    try {
      const leases = factory(server);
      const name = prefix();
      const a = start(leases.lock(name, 'a'));
      await waitFor(() => a.elector.isLeader(), 5_000, 'a to lead');
      const b = start(leases.lock(name, 'b'));
      await waitFor(() => b.elector.getLeader() === 'a', 5_000, 'b to see a');
      const lists = (): number => server.requests().filter((r) => r.verb === 'list').length;
      const listsBefore = lists();
      // No watch can be re-opened while other Leases change more often than the history keeps.
      server.faults.setTarget({ verb: 'watch' });
      server.faults.setErrorRate(1, 503);
      server.faults.dropWatches();
      for (let i = 0; i < 6; i++) {
        server.putObject({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: `${name}-noise-${i}`, namespace: 'default' }, spec: {} });
      }
      server.faults.reset();
      await waitFor(() => lists() > listsBefore, 5_000, 'a relist');
      await waitFor(() => server.openWatchCount() === 1, 5_000, 'the watch to be back');
      await a.stop();
      const releasedAt = performance.now();
      await waitFor(() => b.elector.isLeader(), 5_000, 'b to take over');
      expect(performance.now() - releasedAt).toBeLessThan(FAST.leaseDuration);
      await Promise.all(probes.splice(0).map((p) => p.stop()));
    } finally {
      await server.stop();
    }
  });
});
