import { EtcdLockFactory } from '@baton/lock-etcd';
import { EtcdCluster } from '@baton/testkit';
import type { Address, BackendDriver, BackendServer, ConnectInfo, FactoryOptions, LockFactoryHandle, ServerOptions } from './types.ts';

/** etcd's gRPC methods in its Prometheus text: `grpc_server_handled_total{…grpc_method="Txn"…} 12`. */
const HANDLED = /^grpc_server_handled_total\{[^}]*grpc_method="([^"]+)"[^}]*\}\s+(\d+)/gm;

class EtcdBackend implements BackendServer {
  readonly name = 'etcd' as const;
  readonly address: Address;
  readonly restartIsReal = true;
  private readonly cluster: EtcdCluster;
  private baseline: Record<string, number> = {};

  constructor(cluster: EtcdCluster) {
    this.cluster = cluster;
    this.address = { host: '127.0.0.1', port: cluster.members[0]!.clientPort };
  }

  get pid(): number | undefined {
    return this.cluster.members[0]!.pid;
  }

  connectInfo(via?: Address): ConnectInfo {
    const address = via ?? this.address;
    return { url: `http://${address.host}:${address.port}` };
  }

  async restart(downMs: number): Promise<string> {
    const member = this.cluster.members[0]!;
    await member.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, downMs));
    member.start();
    await member.waitHealthy();
    return 'etcd SIGKILL + restart on the same ports and data';
  }

  /** Server-wide gRPC calls handled (etcd's /metrics) since the last reset; etcd cannot attribute them. */
  async requestCounts(): Promise<Record<string, Record<string, number>>> {
    const now = await this.handled();
    const row: Record<string, number> = {};
    let total = 0;
    for (const [method, calls] of Object.entries(now)) {
      const delta = calls - (this.baseline[method] ?? 0);
      if (delta <= 0) continue;
      row[method] = delta;
      total += delta;
    }
    row.total = total;
    return { '*': row };
  }

  async resetRequestCounts(): Promise<void> {
    this.baseline = await this.handled();
  }

  private async handled(): Promise<Record<string, number>> {
    const text = await (await fetch(`${this.cluster.members[0]!.url}/metrics`)).text();
    const counts: Record<string, number> = {};
    for (const match of text.matchAll(HANDLED)) counts[match[1]!] = (counts[match[1]!] ?? 0) + Number(match[2]);
    return counts;
  }

  async stop(): Promise<void> {
    await this.cluster.stop();
  }
}

export const etcdDriver: BackendDriver = {
  name: 'etcd',
  sessionBound: false,
  async startServer(options: ServerOptions): Promise<BackendServer> {
    const cluster = await EtcdCluster.start(1);
    options.log?.(`etcd pid ${cluster.members[0]!.pid} on ${cluster.urls[0]} (dedicated, one member)`);
    return new EtcdBackend(cluster);
  },
  async openFactory(info: ConnectInfo, _options: FactoryOptions): Promise<LockFactoryHandle> {
    const factory = new EtcdLockFactory({ connection: String(info.url) });
    return { lock: (name, identity) => factory.lock(name, identity), close: () => factory.close() };
  },
};
