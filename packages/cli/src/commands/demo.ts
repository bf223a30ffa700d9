import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BatonError, JITTER_FACTOR, silentLogger } from '@baton/core';
import { stringify } from 'yaml';
import type { CliIo } from '../io.ts';
import { loadConfig, openLock, type BatonConfig, type OpenedLock } from '@baton/runtime';
import { Candidate, type CandidateEvent } from '../demo/candidate.ts';
import { DEMO_BACKENDS, setUpBackend, type DemoBackend, type DemoBackendName } from '../demo/setup.ts';
import { followLock } from '../follow-lock.ts';
import { formatAge } from '../record-table.ts';
import { DemoOutput, describeEvent, releasedInTime, type DemoSummary } from '../demo/output.ts';
import { DemoState } from '../demo/state.ts';

export type { DemoSummary } from '../demo/output.ts';

/** Timing profiles: the default one is for watching; `--fast` is for CI. */
export const DEMO_PROFILES = {
  default: { leaseDuration: '3s', renewDeadline: '2s', retryPeriod: '500ms' },
  fast: { leaseDuration: '1s', renewDeadline: '700ms', retryPeriod: '150ms' },
} as const;

/** The demo gives up (and cleans up) after this long. */
const DEMO_DEADLINE_MS = 55_000;

/** Slack, beyond the lease, that the crash failover is allowed for process and CPU latency. */
const FAILOVER_SLACK_MS = 1_500;

export interface DemoOptions {
  flags: Record<string, unknown>;
  io: CliIo;
}

/**
 * `baton demo`: three `baton run` candidates on one lock; a live table of the lock; a crash
 * (SIGKILL) of the leader, then a graceful stop (SIGTERM) of the next one; a summary of both
 * failover times, checked. Finishes on its own and leaves no process behind.
 * @returns 0 when every check passed, 1 otherwise, 2 for bad usage.
 */
export async function runDemo({ flags, io }: DemoOptions): Promise<number> {
  const backendName = (flags.backend as string | undefined) ?? 'lease';
  if (!(DEMO_BACKENDS as readonly string[]).includes(backendName)) {
    io.stderr(`baton: the demo runs on ${DEMO_BACKENDS.join(', ')}; "${backendName}" ${backendName === 'memory' ? 'is in-process only' : 'is not a backend'}\n`);
    return 2;
  }
  const backend = backendName as DemoBackendName;
  const profile = flags.fast === true ? DEMO_PROFILES.fast : DEMO_PROFILES.default;
  const id = `baton-demo-${randomBytes(3).toString('hex')}`;
  const timingFlags = Object.fromEntries(
    ['lease-duration', 'renew-deadline', 'retry-period', 'grace-period'].filter((f) => flags[f] !== undefined).map((f) => [f, flags[f]]),
  );
  // Validates the timings (exit code 2 via the CLI's error report).
  const { config } = await loadConfig({ values: { backend, leaderElectionID: id, ...profile }, flags: timingFlags, env: {} });

  const deadline = AbortSignal.any([io.signal, AbortSignal.timeout(DEMO_DEADLINE_MS)]);
  const out = new DemoOutput(io);
  const dir = await mkdtemp(join(tmpdir(), 'baton-demo-'));
  let setup: DemoBackend | undefined;
  let observer: OpenedLock | undefined;
  const candidates: Candidate[] = [];
  const state = new DemoState(deadline);
  try {
    setup = await setUpBackend(backend, flags.url as string | undefined, kubernetesFlags(flags), silentLogger);
    const configPath = join(dir, 'baton.yaml');
    await writeFile(configPath, stringify(candidateConfig(config, backend, setup.section)));
    out.banner(config, setup.description);

    const loaded = await loadConfig({ file: configPath, env: {} });
    observer = await openLock(loaded, { identity: 'baton-demo-observer' });
    const stopObserving = followLock(observer.lock, {
      pollMs: Math.min(config.retryPeriod, 250),
      signal: deadline,
      onSnapshot: (snapshot) => {
        if (state.lock(snapshot)) out.lockRow(state.snapshot, state.renewedOnly);
      },
    });

    const warned = new Set<string>();
    const onEvent = (event: CandidateEvent): void => {
      state.event(event);
      const line = describeEvent(event);
      // A warning that repeats (a backend retrying) is shown once per candidate.
      const isWarning = event.kind === 'log' && typeof event.fields.level === 'number' && event.fields.level >= 40;
      if (isWarning && warned.has(line ?? '')) return;
      if (isWarning && line) warned.add(line);
      if (line) out.event(event.at, line);
    };
    for (const name of ['candidate-1', 'candidate-2', 'candidate-3']) candidates.push(new Candidate(name, configPath, onEvent));
    out.event(Date.now(), `started ${candidates.map((c) => `${c.identity} (pid ${c.pid})`).join(', ')}: each runs "baton run -- <worker>"`);

    const phase = config.leaseDuration * 3 + 15_000;
    // 1. A leader, working, renewing.
    const first = await state.until('the first leader to start its command', phase, () => state.leaderWorking(candidates));
    const leader = first.candidate;
    await state.until(`${leader.identity} to renew twice`, phase, () => state.renewed(first, 2));
    const follower = await state.until('a follower to see the leader', phase, () =>
      candidates.find((c) => c !== leader && c.httpUrl && state.lastLog(c.identity, 'new leader observed')?.fields.leader === leader.identity),
    );
    await showEndpoints(out, leader, follower);

    // 2. Crash: SIGKILL the leader's whole process group.
    const killedAt = Date.now();
    out.event(killedAt, `SIGKILL ${leader.identity}: baton, its watchdog and its command die at once; the lease is left to expire`);
    leader.crash();
    const second = await state.until('a new leader after the crash', phase, () => state.startedLeading(candidates, killedAt, leader));
    const crashFailoverMs = second.at - killedAt;
    out.event(second.at, `failover after the crash: ${crashFailoverMs} ms (lease ${formatAge(config.leaseDuration)})`);
    await state.until(`${second.candidate.identity}'s command`, phase, () => state.commandWorking(second));
    await state.until(`${second.candidate.identity} to renew`, phase, () => state.renewed(second, 1));

    // 3. Graceful: SIGTERM the new leader; it stops its command, then releases.
    const termAt = Date.now();
    out.event(termAt, `SIGTERM ${second.candidate.identity}: it stops its command, then releases the lease`);
    second.candidate.terminate();
    const third = await state.until('a new leader after the release', phase, () => state.startedLeading(candidates, termAt, second.candidate));
    const gracefulHandoverMs = third.at - termAt;
    out.event(third.at, `handover after the graceful stop: ${gracefulHandoverMs} ms`);
    const stopped = await withTimeout(second.candidate.exited, config.gracePeriod + 5_000);
    // Its release may be logged after the next leader's start: read it once all its lines are in.
    await withTimeout(second.candidate.logged, 2_000);
    const releasedAt = state.lastLog(second.candidate.identity, 'released the lease')?.at;
    const commandExitedAt = state.lastLog(second.candidate.identity, 'command exited')?.at;
    const freeMs = releasedAt === undefined ? undefined : Math.max(0, third.at - releasedAt);
    const commandStopMs = commandExitedAt === undefined ? undefined : commandExitedAt - termAt;
    await state.until(`${third.candidate.identity}'s command`, phase, () => state.commandWorking(third));

    // 4. The end: stop everyone gracefully.
    out.event(Date.now(), 'stopping the remaining candidates (SIGTERM)');
    for (const candidate of candidates) candidate.terminate();
    await Promise.all(candidates.map((c) => withTimeout(c.exited, config.gracePeriod + 5_000)));
    stopObserving();
    out.flush();

    const crashBoundMs = Math.round(config.leaseDuration + (1 + JITTER_FACTOR) * config.retryPeriod + FAILOVER_SLACK_MS);
    const processesLeft = await leftovers(candidates);
    const summary: DemoSummary = {
      backend,
      crashFailoverMs,
      crashBoundMs,
      gracefulHandoverMs,
      commandStopMs,
      freeMs,
      oneCommandAtATime: state.oneCommandAtATime(killedAt, leader.identity),
      stoppedExitCode: stopped?.code ?? null,
      processesLeft,
      passed: false,
    };
    summary.passed =
      crashFailoverMs <= crashBoundMs &&
      releasedInTime(summary, config.leaseDuration) &&
      summary.oneCommandAtATime &&
      summary.stoppedExitCode === 0 &&
      processesLeft === 0;
    out.summary(summary, config, leader.identity, second.candidate.identity, third.candidate.identity);
    return summary.passed ? 0 : 1;
  } catch (error) {
    out.flush();
    if (error instanceof BatonError && error.code === 'CONFIG_INVALID') throw error;
    io.stderr(`baton demo: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    for (const candidate of candidates) candidate.terminate();
    await Promise.all(candidates.map((c) => withTimeout(c.exited, 3_000)));
    for (const candidate of candidates) candidate.killGroup();
    await observer?.close().catch(() => {});
    await setup?.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

/** `--token`, `--certificate-authority`, `--insecure-skip-tls-verify`, for a Kubernetes `--url`. */
function kubernetesFlags(flags: Record<string, unknown>): Record<string, unknown> {
  return {
    ...(typeof flags.token === 'string' && { token: flags.token }),
    ...(typeof flags['certificate-authority'] === 'string' && { certificateAuthority: resolve(flags['certificate-authority']) }),
    ...(flags['insecure-skip-tls-verify'] === true && { insecureSkipTLSVerify: true }),
  };
}

/** The candidates' configuration file. */
function candidateConfig(config: BatonConfig, backend: DemoBackendName, section: Record<string, unknown>): Record<string, unknown> {
  const sectionName = backend === 'redis' || backend === 'postgres' || backend === 'etcd' ? backend : 'kubernetes';
  return {
    backend,
    leaderElectionID: config.leaderElectionID,
    ...(config.namespace !== undefined && { namespace: config.namespace }),
    leaseDuration: config.leaseDuration,
    renewDeadline: config.renewDeadline,
    retryPeriod: config.retryPeriod,
    gracePeriod: config.gracePeriod,
    http: { host: '127.0.0.1', port: 0 },
    log: { format: 'json', level: 'info' },
    [sectionName]: section,
  };
}

/** Asks a follower's `/leader` and the leader's `/metrics`, to show the sidecar endpoints. */
async function showEndpoints(out: DemoOutput, leader: Candidate, follower: Candidate): Promise<void> {
  try {
    if (follower.httpUrl) {
      const body = (await (await fetch(`${follower.httpUrl}/leader`, { signal: AbortSignal.timeout(5_000) })).text()).trim();
      out.event(Date.now(), `GET /leader on ${follower.identity} → ${body}`);
    }
    if (leader.httpUrl) {
      const metrics = await (await fetch(`${leader.httpUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      const line = metrics.split('\n').find((l) => l.startsWith('leader_election_master_status{'));
      if (line) out.event(Date.now(), `GET /metrics on ${leader.identity} → ${line}`);
    }
  } catch (error) {
    out.event(Date.now(), `could not query the status endpoints: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Processes of the candidates' groups still alive, once the orphans of the crash had up to 2 s to be reaped. */
async function leftovers(candidates: readonly Candidate[]): Promise<number> {
  const until = Date.now() + 2_000;
  for (;;) {
    const alive = candidates.reduce((n, c) => n + c.livingProcesses(), 0);
    if (alive === 0 || Date.now() >= until) return alive;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    void promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
