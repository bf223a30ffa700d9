// The fake kube-apiserver as a child process of a harness or bench run, driven over IPC.
//
// Why not the package's bin: a run needs to restart the server *with its state kept* (as a
// real kube-apiserver restarts on top of etcd) and with a real outage (connections refused)
// in between, and it needs per-client request counts. The bin can only be killed, which
// loses every object. This wrapper uses the library's own stop()/restart({ keepState }).
//
// Args: --dir DIR (kubeconfig goes there), --users N (tokens bench-token-0..N-1 for users
// bench-0..N-1 with full rights, so requests can be counted per client).
// Prints (IPC) { ev: 'ready', port, caData, adminToken }, then answers
// { id, cmd: 'restart', downMs } | { id, cmd: 'counts' } | { id, cmd: 'reset' } | { id, cmd: 'stop' }.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startFakeApiServer } from '@baton/fake-kube-apiserver';
import type { FakeApiServerOptions, RequestRecord } from '@baton/fake-kube-apiserver';

const { values } = parseArgs({
  options: { dir: { type: 'string' }, users: { type: 'string', default: '64' }, port: { type: 'string', default: '0' } },
});
if (!values.dir) throw new Error('--dir is required');
if (!process.send) throw new Error('run with an IPC channel');
const send = (message: object): void => void process.send?.(message);

const tokens: NonNullable<FakeApiServerOptions['tokens']> = {};
for (let i = 0; i < Number(values.users); i++) {
  tokens[`bench-token-${i}`] = { user: `bench-${i}`, rules: [{ verbs: ['*'], resources: ['*'] }] };
}
const adminToken = `bench-admin-${process.pid}`;
tokens[adminToken] = 'admin';

const server = await startFakeApiServer({
  port: Number(values.port),
  kubeconfigPath: join(values.dir, 'kubeconfig'),
  tokens,
  // Watches are not interrupted by periodic timeouts during a run (the default is 30–60 min anyway).
  bookmarkIntervalMs: 60_000,
});

// Counts every request as it arrives (watches included, when they open), by user and verb.
let counts: Record<string, Record<string, number>> = {};
const count = (r: RequestRecord): false => {
  const label = r.user.startsWith('bench-') ? `u${r.user.slice('bench-'.length)}` : r.user || 'anonymous';
  const verb = r.verb || r.method;
  for (const key of [label, '*']) {
    const row = (counts[key] ??= {});
    row[verb] = (row[verb] ?? 0) + 1;
    row.total = (row.total ?? 0) + 1;
  }
  return false;
};
const arm = (): void => {
  server.waitForRequest(count, { arrived: true, timeoutMs: 2 ** 31 - 1 }).catch(arm);
};
arm();

process.on('message', (raw: unknown) => {
  const message = raw as { id: number; cmd: string; downMs?: number };
  void (async () => {
    try {
      let result: unknown;
      switch (message.cmd) {
        case 'restart': {
          // A real outage: the port refuses connections, every connection and watch is cut.
          await server.stop();
          await new Promise((r) => setTimeout(r, message.downMs ?? 0));
          await server.restart({ keepState: true });
          result = 'fake-kube-apiserver stop + restart on the same port (state kept)';
          break;
        }
        case 'counts':
          result = counts;
          break;
        case 'reset':
          counts = {};
          break;
        case 'stop':
          await server.stop();
          send({ id: message.id, ok: true });
          process.exit(0);
          return;
        default:
          throw new Error(`unknown command ${message.cmd}`);
      }
      send({ id: message.id, ok: true, result });
    } catch (error) {
      send({ id: message.id, ok: false, error: String(error) });
    }
  })();
});
process.on('disconnect', () => void server.stop().finally(() => process.exit(0)));

send({
  ev: 'ready',
  port: server.port,
  caData: Buffer.from(server.caCertificate).toString('base64'),
  adminToken,
});
