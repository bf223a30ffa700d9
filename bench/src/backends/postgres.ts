import pg from 'pg';
import { PostgresLockFactory } from '@baton/lock-postgres';
import type { LeaseTimings } from '@baton/core';
import { PostgresCluster } from '@baton/testkit';
import type { Address, BackendDriver, BackendServer, ClientMeter, ConnectInfo, FactoryOptions, LockFactoryHandle, ServerOptions } from './types.ts';

/** The shared server the tests use (trust auth); `BATON_PG_URL` overrides it. */
export const DEFAULT_PG_URL = process.env.BATON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * `sessionTimeout` for the given timings: the middle of the window the adapter's README asks
 * for, `renewDeadline ≤ sessionTimeout ≤ leaseDuration − retryPeriod`.
 */
export function sessionTimeoutFor(t: LeaseTimings): number {
  const low = t.renewDeadlineMs;
  const high = Math.max(low, t.leaseDurationMs - t.retryPeriodMs);
  return Math.round((low + high) / 2);
}

function withPort(url: string, address: Address): string {
  const u = new URL(url);
  u.hostname = address.host;
  u.port = String(address.port);
  return u.toString();
}

class PostgresBackend implements BackendServer {
  readonly name = 'postgres' as const;
  readonly address: Address;
  /** False on the shared server: a "restart" ends this run's sessions instead (see restart()). */
  readonly restartIsReal: boolean;
  private readonly url: string;
  private readonly table: string;
  private readonly appPrefix: string;
  private readonly cluster: PostgresCluster | undefined;

  constructor(url: string, runId: string, cluster: PostgresCluster | undefined) {
    this.url = url;
    const u = new URL(url);
    this.address = { host: u.hostname, port: Number(u.port || 5432) };
    this.table = `bench_${runId}`.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 60);
    this.appPrefix = `bn${runId}`.slice(0, 24);
    this.cluster = cluster;
    this.restartIsReal = cluster !== undefined;
  }

  connectInfo(via?: Address): ConnectInfo {
    return { url: via ? withPort(this.url, via) : this.url, table: this.table, appPrefix: this.appPrefix };
  }

  /**
   * On a dedicated cluster: a real fast shutdown and start. On the shared server (default):
   * `pg_terminate_backend` on every connection of this run — what clients see of a restart
   * (sessions and advisory locks gone, LISTEN broken) without touching anyone else's; the
   * harness cuts every candidate's proxy for `downMs` around it.
   */
  async restart(downMs: number): Promise<string> {
    if (this.cluster) {
      await this.cluster.restart({ downMs });
      return 'dedicated PostgreSQL fast shutdown + restart on the same port';
    }
    const ended = await this.terminateSessions();
    return `pg_terminate_backend on this run's ${ended} connections (shared server not restarted)`;
  }

  async terminateSessions(): Promise<number> {
    const { rows } = await this.admin((c) =>
      c.query<{ n: string }>(
        `SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid()`,
        [`${this.appPrefix}-%`],
      ),
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Connections this run holds open on the server right now. */
  async connectionCount(): Promise<number> {
    const { rows } = await this.admin((c) =>
      c.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name LIKE $1`, [`${this.appPrefix}-%`]),
    );
    return Number(rows[0]?.n ?? 0);
  }

  async stop(): Promise<void> {
    if (this.cluster) {
      await this.cluster.stop();
      return;
    }
    await this.admin((c) => c.query(`DROP TABLE IF EXISTS public."${this.table}"`)).catch(() => {});
  }

  private async admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'bench-admin' });
    client.on('error', () => {});
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** Counts every statement pg clients send in this process, by factory label (from application_name). */
function meter(): ClientMeter {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  let counts: Record<string, Record<string, number>> = {};
  proto.query = function (this: { connectionParameters?: { application_name?: string } }, ...args: unknown[]) {
    const app = this.connectionParameters?.application_name ?? '';
    const match = /^bn[^-]*-(.+?)(?::(session|listen))?$/.exec(app);
    if (match) {
      const label = match[1]!;
      const op = match[2] ?? 'pool';
      for (const key of [label, '*']) {
        const row = (counts[key] ??= {});
        row[op] = (row[op] ?? 0) + 1;
        row.total = (row.total ?? 0) + 1;
      }
    }
    return original.apply(this, args);
  };
  return {
    snapshot: () => structuredClone(counts),
    reset: () => {
      counts = {};
    },
    stop: () => {
      proto.query = original;
    },
  };
}

export const postgresDriver: BackendDriver = {
  name: 'postgres',
  sessionBound: true,
  async startServer(options: ServerOptions): Promise<BackendServer> {
    if (options.dedicatedPostgres) {
      const cluster = await PostgresCluster.create({ dir: options.dir });
      options.log?.(`dedicated PostgreSQL on 127.0.0.1:${cluster.port} (restarts are real)`);
      return new PostgresBackend(cluster.url, options.runId, cluster);
    }
    options.log?.(`PostgreSQL ${DEFAULT_PG_URL} (shared; restarts are simulated by ending this run's sessions)`);
    return new PostgresBackend(DEFAULT_PG_URL, options.runId, undefined);
  },
  async openFactory(info: ConnectInfo, options: FactoryOptions): Promise<LockFactoryHandle> {
    const factory = new PostgresLockFactory({
      connectionString: String(info.url),
      table: String(info.table),
      applicationName: `${String(info.appPrefix)}-${options.label ?? 'x'}`.slice(0, 50),
      sessionTimeout: sessionTimeoutFor(options.timings),
    });
    return { lock: (name, identity) => factory.lock(name, identity), close: () => factory.close(), primitives: factory.primitives };
  },
  // The runtime's own sessionTimeout (leaseDuration − retryPeriod): what `baton run` users get.
  batonFlags: (info) => ['--backend', 'postgres', '--url', String(info.url), '--postgres-table', String(info.table)],
  meter,
};
