import { createRequire } from 'node:module';
import { EtcdLockFactory } from '@baton/lock-etcd';
import { EtcdCluster } from '@baton/testkit';
import { Etcd3 } from 'etcd3';
import type { Address, BackendDriver, BackendServer, ClientMeter, ConnectInfo, FactoryOptions, LockFactoryHandle, ServerOptions } from './types.ts';

// gRPC as etcd3 itself loads it, for a client interceptor that counts what goes on the wire.
// (Typed by hand: @grpc/grpc-js is etcd3's dependency, not the bench's.)
const grpc = createRequire(createRequire(import.meta.url).resolve('etcd3'))('@grpc/grpc-js') as {
  InterceptingCall: new (next: unknown, requester: { sendMessage(message: unknown, next: (message: unknown) => void): void }) => unknown;
};

/** Request messages sent per factory label and gRPC method, while a meter is on (see {@link meter}). */
let metered: Record<string, Record<string, number>> | undefined;

/**
 * Counts every request message a factory's client sends — unary calls and each message on a
 * stream (watch creates and cancels, lease keep-alives) — under the factory's label and `*`.
 */
function countingInterceptor(label: string) {
  return (options: { method_definition: { path: string } }, nextCall: (options: unknown) => unknown) => {
    const method = options.method_definition.path.split('/').pop()!;
    return new grpc.InterceptingCall(nextCall(options) as never, {
      sendMessage(message: unknown, next: (message: unknown) => void) {
        if (metered !== undefined) {
          for (const key of [label, '*']) {
            const row = (metered[key] ??= {});
            row[method] = (row[method] ?? 0) + 1;
            row.total = (row.total ?? 0) + 1;
          }
        }
        next(message);
      },
    });
  };
}

function meter(): ClientMeter {
  metered = {};
  return {
    snapshot: () => structuredClone(metered ?? {}),
    reset: () => {
      metered = {};
    },
    stop: () => {
      metered = undefined;
    },
  };
}

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
  async openFactory(info: ConnectInfo, options: FactoryOptions): Promise<LockFactoryHandle> {
    // The bench's own client (so its requests can be counted); the adapter's defaults otherwise.
    const client = new Etcd3({ hosts: String(info.url), grpcOptions: { interceptors: [countingInterceptor(options.label ?? 'x')] } as never });
    const factory = new EtcdLockFactory({ client });
    return {
      lock: (name, identity) => factory.lock(name, identity),
      close: async () => {
        await factory.close();
        client.close();
      },
    };
  },
  batonFlags: (info) => ['--backend', 'etcd', '--url', String(info.url)],
  meter,
};
