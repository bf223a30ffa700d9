import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A single-member etcd of the demo's own: loopback ports, a temporary data directory. */
export interface EtcdProcess {
  readonly url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True once the member answers `/health` with a leader. */
async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
    return /"health":\s*"true"/.test(await response.text());
  } catch {
    return false;
  }
}

/**
 * Starts `etcd` from the PATH (Debian: `apt install etcd-server`) for `baton demo --backend
 * etcd` without `--url`. It stops with the demo; its data goes with it.
 * @throws Error saying what to install or pass when etcd cannot be started.
 */
export async function startEtcd(timeoutMs = 15_000): Promise<EtcdProcess> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const dir = await mkdtemp(join(tmpdir(), 'baton-demo-etcd-'));
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    'etcd',
    ['--name', 'demo', '--data-dir', dir, '--listen-client-urls', url, '--advertise-client-urls', url,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `demo=${peer}`, '--log-level', 'error'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, spawnError]);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((resolve) => setTimeout(resolve, 100, undefined))]);
    if (failed !== undefined) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`cannot start etcd (${failed.message}): install etcd (Debian: apt install etcd-server) or pass --url http://host:2379`);
    }
    if (await healthy(url)) return { url, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not become healthy within ${timeoutMs} ms at ${url}`);
    }
  }
}
