import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RedisServerProcess, freePort, rawCommand } from '@baton/testkit';

const run = promisify(execFile);

/** Polls `check` until it holds or `timeoutMs` passes. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A Redis Cluster of `masters` masters (no replicas) on loopback ports of its own. */
export class LocalCluster {
  readonly nodes: RedisServerProcess[];

  private constructor(nodes: RedisServerProcess[]) {
    this.nodes = nodes;
  }

  static async start(masters = 3): Promise<LocalCluster> {
    const nodes: RedisServerProcess[] = [];
    try {
      for (let i = 0; i < masters; i++) {
        const busPort = await freePort();
        nodes.push(
          await RedisServerProcess.start({
            args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort), '--cluster-node-timeout', '2000'],
          }),
        );
      }
      await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
        timeout: 20_000,
      });
      for (const node of nodes) {
        await until(async () => (await rawCommand(node.port, 'CLUSTER INFO')).includes('cluster_state:ok'), 20_000, `cluster state ok on ${node.port}`);
      }
      return new LocalCluster(nodes);
    } catch (error) {
      await Promise.all(nodes.map((n) => n.stop()));
      throw error;
    }
  }

  get startupNodes(): Array<{ host: string; port: number }> {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

/** A master, one replica and one Sentinel (quorum 1) on loopback ports of their own. */
export class LocalSentinel {
  static readonly masterName = 'batonmaster';
  readonly master: RedisServerProcess;
  readonly replica: RedisServerProcess;
  readonly sentinel: RedisServerProcess;

  private constructor(master: RedisServerProcess, replica: RedisServerProcess, sentinel: RedisServerProcess) {
    this.master = master;
    this.replica = replica;
    this.sentinel = sentinel;
  }

  static async start(): Promise<LocalSentinel> {
    const started: RedisServerProcess[] = [];
    try {
      const master = await RedisServerProcess.start();
      started.push(master);
      const replica = await RedisServerProcess.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
      started.push(replica);
      await until(async () => (await rawCommand(replica.port, 'INFO replication')).length > 0, 10_000, 'replica');
      const sentinel = await RedisServerProcess.start({
        sentinelConfig: [
          `sentinel monitor ${LocalSentinel.masterName} 127.0.0.1 ${master.port} 1`,
          `sentinel down-after-milliseconds ${LocalSentinel.masterName} 1000`,
          `sentinel failover-timeout ${LocalSentinel.masterName} 5000`,
          `sentinel parallel-syncs ${LocalSentinel.masterName} 1`,
          '',
        ].join('\n'),
      });
      started.push(sentinel);
      // The sentinel must know the replica before it can fail over to it.
      await until(
        async () => (await rawCommand(sentinel.port, `SENTINEL REPLICAS ${LocalSentinel.masterName}`, 1000)).includes(String(replica.port)),
        15_000,
        'the sentinel to discover the replica',
      );
      return new LocalSentinel(master, replica, sentinel);
    } catch (error) {
      await Promise.all(started.map((n) => n.stop()));
      throw error;
    }
  }

  /** The port of the master the sentinel currently names. */
  async masterPort(): Promise<number> {
    const reply = await rawCommand(this.sentinel.port, `SENTINEL GET-MASTER-ADDR-BY-NAME ${LocalSentinel.masterName}`);
    const port = /\r\n(\d+)\r\n$/.exec(reply)?.[1];
    if (!port) throw new Error(`unexpected reply: ${JSON.stringify(reply)}`);
    return Number(port);
  }

  async stop(): Promise<void> {
    await Promise.all([this.sentinel, this.replica, this.master].map((n) => n.stop()));
  }
}
