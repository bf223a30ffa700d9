// Measures the fake API server's CPU per request and per watch event under the load the Lease
// and Endpoints adapters put on it at scale: ~1,000 leases renewed by clients (GET + PUT each,
// over a small keep-alive socket pool, as one shared client per factory does) with watchers open.
//
//   node packages/fake-kube-apiserver/bench/load.ts [--leases 1000] [--rounds 2] [--repeats 3]
//        [--sockets 8] [--watchers 10] [--baseline DIR] [--deadline-s 240]
//        [--phases requests,ns-watch,object-watch] [--cpu-prof-dir DIR]
//
// The server runs in a child process (this file with --serve) so its CPU time
// (process.cpuUsage) is its own; everything runs on loopback. Three phases, each repeated and
// reported as the median:
//   requests      renewals only, no watch open: server CPU / requests served
//   ns-watch      the same renewals with `--watchers` namespace-wide watches (the informer
//                 pattern): (CPU - requests x CPU per request) / watch events delivered
//   object-watch  the same renewals with one watch per lease (fieldSelector metadata.name=x, the
//                 per-lock watch pattern): extra CPU / watch events delivered
// --baseline DIR serves a second copy of the server's src (e.g. an older commit's, extracted with
// `git archive`) in another child, and interleaves the two phase by phase, so the ratio between
// them is measured under the same machine load.

import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request, type IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    leases: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '2' },
    repeats: { type: 'string', default: '3' },
    sockets: { type: 'string', default: '8' },
    watchers: { type: 'string', default: '10' },
    baseline: { type: 'string' },
    phases: { type: 'string', default: 'requests,ns-watch,object-watch' },
    'cpu-prof-dir': { type: 'string' },
    'deadline-s': { type: 'string', default: '240' },
  },
});

type Phase = 'requests' | 'ns-watch' | 'object-watch';
const PHASES = (values.phases ?? '').split(',').filter(Boolean) as Phase[];

const ADMIN_TOKEN = 'load-admin';
const NAMESPACE = 'load';

// ---- the server child ---------------------------------------------------------------------

async function serve(srcDir: string): Promise<void> {
  const mod = (await import(resolve(srcDir, 'index.ts'))) as typeof import('../src/index.ts');
  const server = await mod.startFakeApiServer({ port: 0, tokens: { [ADMIN_TOKEN]: 'admin' } });
  process.on('message', (message: { cmd: string }) => {
    if (message.cmd === 'cpu') {
      const cpu = process.cpuUsage();
      process.send?.({ cpuMicros: cpu.user + cpu.system, userMicros: cpu.user, watches: server.openWatchCount() });
    } else if (message.cmd === 'stop') {
      void server.stop().finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => void server.stop().finally(() => process.exit(0)));
  process.send?.({ port: server.port });
}

// ---- the load generator -------------------------------------------------------------------

interface ServerChild {
  label: string;
  child: ChildProcess;
  port: number;
}

function startChild(label: string, srcDir: string): Promise<ServerChild> {
  const execArgv = values['cpu-prof-dir'] ? [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${values['cpu-prof-dir']}`] : process.execArgv;
  const child = fork(new URL(import.meta.url).pathname, ['--serve', srcDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  return new Promise((resolveStart, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`server child exited with ${String(code)}`)));
    child.once('message', (m: { port: number }) => resolveStart({ label, child, port: m.port }));
  });
}

/** The server process's CPU time so far: user + system, and user alone (JavaScript, without the kernel's socket work). */
function serverCpuMicros(server: ServerChild): Promise<{ total: number; user: number }> {
  return new Promise((resolveCpu) => {
    server.child.once('message', (m: { cpuMicros: number; userMicros: number }) => resolveCpu({ total: m.cpuMicros, user: m.userMicros }));
    server.child.send({ cmd: 'cpu' });
  });
}

function call(agent: Agent, port: number, method: string, path: string, body?: unknown): Promise<{ code: number; json: Record<string, unknown> }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolveCall, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          Authorization: `Bearer ${ADMIN_TOKEN}`,
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolveCall({ code: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const leasePath = (name?: string): string => `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases${name ? `/${name}` : ''}`;

/** A MicroTime as client-go sends it (six fractional digits). */
const microNow = (): string => new Date().toISOString().replace(/Z$/, '000Z');

async function createLeases(server: ServerChild, count: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  await call(agent, server.port, 'POST', '/api/v1/namespaces', { metadata: { name: NAMESPACE } });
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        const name = `lease-${next++}`;
        const r = await call(agent, server.port, 'POST', leasePath(), {
          metadata: { name },
          spec: { holderIdentity: 'load', leaseDurationSeconds: 15, acquireTime: microNow(), renewTime: microNow(), leaseTransitions: 0 },
        });
        if (r.code !== 201) throw new Error(`create ${name}: ${r.code}`);
      }
    }),
  );
  agent.destroy();
}

/** Every lease renewed `rounds` times: GET, then PUT with a new renewTime. Returns requests made. */
async function renewAll(server: ServerChild, leases: number, rounds: number, sockets: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  let requests = 0;
  for (let round = 0; round < rounds; round++) {
    let next = 0;
    await Promise.all(
      Array.from({ length: sockets * 2 }, async () => {
        while (next < leases) {
          const name = `lease-${next++}`;
          const current = await call(agent, server.port, 'GET', leasePath(name));
          const lease = current.json;
          (lease.spec as Record<string, unknown>).renewTime = microNow();
          const updated = await call(agent, server.port, 'PUT', leasePath(name), lease);
          if (updated.code !== 200) throw new Error(`renew ${name}: ${updated.code} ${JSON.stringify(updated.json)}`);
          requests += 2;
        }
      }),
    );
  }
  agent.destroy();
  return requests;
}

interface OpenWatches {
  events(): number;
  close(): void;
}

/** Opens watches from the current resourceVersion and counts the events they receive. */
async function openWatches(server: ServerChild, paths: string[]): Promise<OpenWatches> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const list = await call(agent, server.port, 'GET', leasePath() + '?limit=1');
  const rv = String((list.json.metadata as Record<string, unknown>).resourceVersion);
  let events = 0;
  const responses: IncomingMessage[] = [];
  await Promise.all(
    paths.map(
      (path) =>
        new Promise<void>((resolveOpen, reject) => {
          const sep = path.includes('?') ? '&' : '?';
          const req = request(
            { host: '127.0.0.1', port: server.port, path: `${path}${sep}watch=1&resourceVersion=${rv}`, agent, headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } },
            (res) => {
              responses.push(res);
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => {
                for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) events++;
              });
              res.on('error', () => {});
              resolveOpen();
            },
          );
          req.on('error', reject);
          req.end();
        }),
    ),
  );
  return {
    events: () => events,
    close: () => {
      for (const res of responses) res.destroy();
      agent.destroy();
    },
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const waitFor = async (cond: () => boolean, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
};

interface PhaseResult {
  cpuMicros: number;
  userMicros: number;
  requests: number;
  events: number;
}

async function phase(server: ServerChild, kind: 'requests' | 'ns-watch' | 'object-watch', opts: { leases: number; rounds: number; sockets: number; watchers: number }): Promise<PhaseResult> {
  let watches: OpenWatches | undefined;
  if (kind === 'ns-watch') watches = await openWatches(server, Array.from({ length: opts.watchers }, () => leasePath()));
  if (kind === 'object-watch') {
    watches = await openWatches(server, Array.from({ length: opts.leases }, (_, i) => `${leasePath()}?fieldSelector=metadata.name%3Dlease-${i}`));
  }
  const before = await serverCpuMicros(server);
  const requests = await renewAll(server, opts.leases, opts.rounds, opts.sockets);
  const expected = kind === 'ns-watch' ? requests / 2 * opts.watchers : kind === 'object-watch' ? requests / 2 : 0;
  if (watches) await waitFor(() => watches.events() >= expected, 10_000);
  const after = await serverCpuMicros(server);
  const events = watches?.events() ?? 0;
  watches?.close();
  return { cpuMicros: after.total - before.total, userMicros: after.user - before.user, requests, events };
}

async function main(): Promise<void> {
  const opts = { leases: Number(values.leases), rounds: Number(values.rounds), sockets: Number(values.sockets), watchers: Number(values.watchers) };
  const repeats = Number(values.repeats);
  const deadline = setTimeout(() => {
    process.stderr.write('load: deadline reached\n');
    process.exit(2);
  }, Number(values['deadline-s']) * 1000);
  const servers: ServerChild[] = [await startChild('current', resolve(import.meta.dirname, '../src'))];
  if (values.baseline) servers.unshift(await startChild('baseline', resolve(values.baseline)));
  const results = new Map<string, Record<string, PhaseResult[]>>();
  try {
    for (const server of servers) {
      await createLeases(server, opts.leases);
      await phase(server, 'requests', opts); // warm-up: JIT and caches, not counted
      results.set(server.label, { requests: [], 'ns-watch': [], 'object-watch': [] });
    }
    for (let i = 0; i < repeats; i++) {
      for (const kind of PHASES) {
        // Interleaved: each phase runs on every server before the next phase starts.
        for (const server of servers) results.get(server.label)![kind]!.push(await phase(server, kind, opts));
      }
    }
  } finally {
    // A clean stop, so a --cpu-prof child writes its profile.
    await Promise.all(servers.map((server) => new Promise((done) => {
      server.child.once('exit', done);
      server.child.send({ cmd: 'stop' });
    })));
    clearTimeout(deadline);
  }
  const summary: Record<string, Record<string, number>> = {};
  for (const [label, byPhase] of results) {
    const perRequest = byPhase.requests!.length ? median(byPhase.requests!.map((r) => r.cpuMicros / r.requests)) : NaN;
    const perEvent = (kind: string): number =>
      !byPhase[kind]!.length ? NaN : median(byPhase[kind]!.map((r) => (r.cpuMicros - perRequest * r.requests) / Math.max(1, r.events)));
    summary[label] = {
      cpuMicrosPerRequest: Math.round(perRequest),
      userCpuMicrosPerRequest: byPhase.requests!.length ? Math.round(median(byPhase.requests!.map((r) => r.userMicros / r.requests))) : NaN,
      cpuMicrosPerNsWatchEvent: Math.round(perEvent('ns-watch')),
      cpuMicrosPerObjectWatchEvent: Math.round(perEvent('object-watch')),
      nsWatchEvents: byPhase['ns-watch']!.length ? median(byPhase['ns-watch']!.map((r) => r.events)) : 0,
      objectWatchEvents: byPhase['object-watch']!.length ? median(byPhase['object-watch']!.map((r) => r.events)) : 0,
    };
  }
  const out: Record<string, unknown> = { options: { ...opts, repeats }, summary };
  if (summary.baseline && summary.current) {
    const ratio = (k: string): number => Number((summary.current![k]! / summary.baseline![k]!).toFixed(3));
    out.currentOverBaseline = {
      cpuPerRequest: ratio('cpuMicrosPerRequest'),
      userCpuPerRequest: ratio('userCpuMicrosPerRequest'),
      cpuPerNsWatchEvent: ratio('cpuMicrosPerNsWatchEvent'),
      cpuPerObjectWatchEvent: ratio('cpuMicrosPerObjectWatchEvent'),
    };
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

if (values.serve) await serve(values.serve);
else await main();
