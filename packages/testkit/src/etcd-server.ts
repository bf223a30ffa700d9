import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, listening } from './ports.ts';
import { Etcd3 } from 'etcd3';


/** Raft timings of test clusters: fast elections, so a killed leader is replaced in about a second. */
export interface RaftTimings {
  heartbeatMs: number;
  electionTimeoutMs: number;
}

const FAST: RaftTimings = { heartbeatMs: 50, electionTimeoutMs: 500 };

/**
 * True once the member at `url` reports itself healthy (it has a leader and answers reads).
 * A connection per question, closed after it: nothing keeps the test process alive after.
 */
function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpGet(`${url}/health`, { agent: false, timeout: 1000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(/"health":\s*"true"/.test(body)));
      response.on('error', () => resolve(false));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

/** TLS of a member's client port: its certificate, and a CA that client certificates must chain to. */
export interface MemberTls {
  certFile: string;
  keyFile: string;
  /** Require client certificates signed by this CA. */
  clientCaFile?: string;
}

/**
 * One etcd member of a test cluster: its own loopback client and peer ports and a data
 * directory in a temporary folder. Killed and started again on the same ports and data.
 */
export class EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  output = '';
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private readonly argv: string[];
  /** Where `/health` is asked; a TLS member (whose port wants a client certificate) only has to accept connections. */
  private readonly healthUrl: string | undefined;

  /** `http` or `https` (the client port only; peers talk plain text on loopback). */
  readonly scheme: string;

  constructor(name: string, clientPort: number, peerPort: number, dataDir: string, initialCluster: string, token: string, raft: RaftTimings, tls?: MemberTls) {
    this.name = name;
    this.scheme = tls ? 'https' : 'http';
    this.clientPort = clientPort;
    this.peerPort = peerPort;
    this.dataDir = dataDir;
    this.argv = [
      '--name', name,
      '--data-dir', dataDir,
      '--listen-client-urls', this.url,
      '--advertise-client-urls', this.url,
      '--listen-peer-urls', this.peerUrl,
      '--initial-advertise-peer-urls', this.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', token,
      '--heartbeat-interval', String(raft.heartbeatMs),
      '--election-timeout', String(raft.electionTimeoutMs),
      '--logger', 'zap',
      '--log-level', 'error',
      ...(tls ? ['--cert-file', tls.certFile, '--key-file', tls.keyFile] : []),
      ...(tls?.clientCaFile ? ['--client-cert-auth', '--trusted-ca-file', tls.clientCaFile] : []),
    ];
    this.healthUrl = tls ? undefined : this.url;
  }

  /** The client URL, `http://127.0.0.1:<port>`. */
  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.clientPort}`;
  }

  get peerUrl(): string {
    return `http://127.0.0.1:${this.peerPort}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process (again: the data directory keeps its membership and data). */
  start(): void {
    if (this.child) throw new Error(`${this.name} is already running`);
    // A clean environment for etcd: ETCD_* variables of the machine must not configure it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ETCD')));
    const child = spawn('etcd', this.argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child = child;
    const collect = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  }

  /** Resolves once this member is healthy, or rejects after `timeoutMs` with its output. */
  async waitHealthy(timeoutMs = 15_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!(await (this.healthUrl === undefined ? listening(this.clientPort) : healthy(this.healthUrl)))) {
      if (!this.running) throw new Error(`etcd ${this.name} exited:\n${this.output}`);
      if (performance.now() > deadline) throw new Error(`etcd ${this.name} not healthy within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Kills the process (SIGKILL by default: a crash) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    await this.exited;
    this.child = undefined;
  }

  /** Kills and starts again on the same ports and data; resolves once healthy. */
  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(signal);
    this.start();
    await this.waitHealthy();
  }
}

/**
 * A throwaway etcd cluster on loopback ports, one member or several, in a temporary
 * directory removed by {@link EtcdCluster.stop}. Never touches a system etcd.
 */
export class EtcdCluster {
  readonly members: EtcdMember[];
  readonly dir: string;

  private constructor(members: EtcdMember[], dir: string) {
    this.members = members;
    this.dir = dir;
  }

  static async start(size = 1, raft: RaftTimings = FAST, tls?: MemberTls): Promise<EtcdCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'baton-etcd-'));
    const ports: Array<[number, number]> = [];
    for (let i = 0; i < size; i++) ports.push([await freePort(), await freePort()]);
    const initialCluster = ports.map(([, peer], i) => `m${i}=http://127.0.0.1:${peer}`).join(',');
    const token = `baton-${randomBytes(4).toString('hex')}`;
    const members = ports.map(([client, peer], i) => new EtcdMember(`m${i}`, client, peer, join(dir, `m${i}`), initialCluster, token, raft, tls));
    const cluster = new EtcdCluster(members, dir);
    try {
      for (const member of members) member.start();
      await Promise.all(members.map((member) => member.waitHealthy()));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Client URLs of every member. */
  get urls(): string[] {
    return this.members.map((member) => member.url);
  }

  /** A client on every member, for a test to inspect or tamper with the store. */
  adminClient(): Etcd3 {
    return new Etcd3({ hosts: this.urls });
  }

  /**
   * The member raft currently has as leader, asked through the maintenance status API of a
   * running member (`leader` names a member ID; each member reports its own in the header).
   */
  async leader(): Promise<EtcdMember> {
    const ids = new Map<string, EtcdMember>();
    let leaderId: string | undefined;
    for (const member of this.members.filter((m) => m.running)) {
      const client = new Etcd3({ hosts: member.url, faultHandling: { host: () => noPolicy, global: noPolicy } as never });
      try {
        const status = await client.maintenance.status({ deadline: new Date(Date.now() + 2000) });
        ids.set(status.header.member_id, member);
        if (status.leader !== '0') leaderId = status.leader;
      } catch {
        // down or not ready: ask the others
      } finally {
        client.close();
      }
    }
    const leader = leaderId === undefined ? undefined : ids.get(leaderId);
    if (!leader) throw new Error('no member reports a leader');
    return leader;
  }

  /** Kills every member and removes the data. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((member) => member.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const noPolicy = { execute: <T>(fn: (context: { signal: AbortSignal }) => T) => Promise.resolve().then(() => fn({ signal: new AbortController().signal })) };
