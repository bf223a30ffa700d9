import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { KubeConfig } from '@kubernetes/client-node';
import { LeaseLockFactory } from '@baton/lock-lease';
import { AnnotationLockFactory } from '@baton/lock-endpoints';
import type { Address, BackendDriver, BackendName, BackendServer, ConnectInfo, FactoryOptions, LockFactoryHandle, ServerOptions } from './types.ts';

/** Number of per-client tokens the server is started with (factory labels `u0`…). */
const METERED_USERS = 64;

/** The fake kube-apiserver in a child process (see kube-apiserver-process.ts). */
class KubeServer implements BackendServer {
  readonly name: BackendName;
  readonly address: Address;
  private readonly child: ChildProcess;
  private readonly caData: string;
  private readonly adminToken: string;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(name: BackendName, child: ChildProcess, ready: { port: number; caData: string; adminToken: string }) {
    this.name = name;
    this.child = child;
    this.address = { host: '127.0.0.1', port: ready.port };
    this.caData = ready.caData;
    this.adminToken = ready.adminToken;
    child.on('message', (raw: unknown) => {
      const message = raw as { id?: number; ok?: boolean; result?: unknown; error?: string };
      if (message.id === undefined) return;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.result);
      else waiter?.reject(new Error(message.error ?? 'failed'));
    });
  }

  static async start(name: BackendName, options: ServerOptions): Promise<KubeServer> {
    const child = fork(new URL('./kube-apiserver-process.ts', import.meta.url).pathname, ['--dir', options.dir, '--users', String(METERED_USERS)], {
      execPath: process.execPath,
      execArgv: ['--no-warnings'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<{ port: number; caData: string; adminToken: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('fake kube-apiserver did not start within 30 s')), 30_000);
      child.once('exit', (code) => reject(new Error(`fake kube-apiserver exited (${code}) before it was ready`)));
      child.on('message', function onReady(raw: unknown) {
        const message = raw as { ev?: string; port: number; caData: string; adminToken: string };
        if (message.ev !== 'ready') return;
        clearTimeout(timer);
        child.off('message', onReady);
        resolve(message);
      });
    });
    options.log?.(`fake kube-apiserver pid ${child.pid} on 127.0.0.1:${ready.port}`);
    return new KubeServer(name, child, ready);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  connectInfo(via?: Address): ConnectInfo {
    const address = via ?? this.address;
    return { server: `https://${address.host}:${address.port}`, caData: this.caData, adminToken: this.adminToken };
  }

  restart(downMs: number): Promise<string> {
    return this.call('restart', { downMs }) as Promise<string>;
  }

  requestCounts(): Promise<Record<string, Record<string, number>>> {
    return this.call('counts') as Promise<Record<string, Record<string, number>>>;
  }

  async resetRequestCounts(): Promise<void> {
    await this.call('reset');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    this.call('stop').catch(() => {});
    await exited;
    clearTimeout(timer);
  }

  private call(cmd: string, fields: object = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, cmd, ...fields });
    });
  }
}

/** A KubeConfig for the server (or a proxy in front of it); label `uN` authenticates as user bench-N. */
export function kubeConfigFor(info: ConnectInfo, label?: string): KubeConfig {
  const metered = /^u(\d+)$/.exec(label ?? '');
  const token = metered && Number(metered[1]) < METERED_USERS ? `bench-token-${metered[1]}` : String(info.adminToken);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: String(info.server), caData: String(info.caData), skipTLSVerify: false }],
    users: [{ name: 'bench', token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'bench', namespace: 'default' }],
    currentContext: 'fake',
  });
  return kubeConfig;
}

function driver(name: 'lease' | 'endpoints'): BackendDriver {
  return {
    name,
    sessionBound: false,
    startServer: (options) => KubeServer.start(name, options),
    async openFactory(info: ConnectInfo, options: FactoryOptions): Promise<LockFactoryHandle> {
      const kubeConfig = kubeConfigFor(info, options.label);
      // Events off: the fake apiserver keeps Events forever, and they are not what is measured.
      const factory =
        name === 'lease'
          ? new LeaseLockFactory({ kubeConfig, namespace: 'default', events: false })
          : new AnnotationLockFactory({ kubeConfig, namespace: 'default', kind: 'endpoints', events: false });
      return { lock: (lockName, identity) => factory.lock(lockName, identity), close: () => factory.close() };
    },
    batonFlags(info: ConnectInfo, dir: string): string[] {
      const caFile = join(dir, 'kube-ca.pem');
      writeFileSync(caFile, Buffer.from(String(info.caData), 'base64'));
      return ['--backend', name, '--url', String(info.server), `--token=${String(info.adminToken)}`, '--certificate-authority', caFile, '--namespace', 'default'];
    },
  };
}

export const leaseDriver = driver('lease');
export const endpointsDriver = driver('endpoints');
