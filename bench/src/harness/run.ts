import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JITTER_FACTOR } from '@baton/core';
import type { LeaseTimings } from '@baton/core';
import { loadDriver } from '../backends/index.ts';
import type { BackendName, BackendServer } from '../backends/types.ts';
import { ChildHandle } from '../lib/child.ts';
import type { ChildEvent } from '../lib/child.ts';
import { now, sleep, waitUntil } from '../lib/clock.ts';
import { Prng } from '../lib/prng.ts';
import { TcpProxy } from '@baton/testkit';
import { checkHistory } from './checker.ts';
import type { CheckResult } from './checker.ts';
import { FAULT_KINDS, parseHistory } from './history.ts';
import type { FaultKind, HarnessEvent, HistoryEvent, RunInfo } from './history.ts';
import { ProtectedResource } from './resource.ts';
import { onCommandExited, spawnSidecar } from './sidecar.ts';
import { describeFault, endsPhase, faultStream, planFaults } from './schedule.ts';
import type { PlannedFault } from './schedule.ts';

export interface HarnessOptions {
  backend: BackendName;
  /** Library candidate processes (default 5). */
  candidates?: number;
  /** How many of them write without `term.assertLeading()` — the fencing probe (default 1). */
  unguarded?: number;
  /** `baton run` sidecar candidates beside them (default 0). */
  sidecars?: number;
  seed: number;
  /** Length of the fault phase in ms; or, instead, */
  faultPhaseMs?: number;
  /** how many faults to inject, however long that takes (skipped faults do not count). */
  faults?: number;
  timings: LeaseTimings;
  /** Fault kinds to inject (default: all). */
  kinds?: readonly FaultKind[];
  /** Scales the calm between faults (default 1; see ScheduleOptions.calm). */
  calm?: number;
  /** How often a leader writes to the protected resource (default 50 ms). */
  writeIntervalMs?: number;
  /** Added to the leaderless bound for process restarts and reconnect backoffs (default 2500 ms). */
  recoverySlackMs?: number;
  /** Timestamp resolution floor added to the measured clock uncertainty (default 0.5 ms). */
  clockToleranceMs?: number;
  /** Where the run's files go (default: a new temp directory). */
  dir?: string;
  /** PostgreSQL: run a dedicated cluster and restart it for real. */
  dedicatedPostgres?: boolean;
  log?: (line: string) => void;
}

export interface HarnessRun {
  dir: string;
  historyFile: string;
  schedule: PlannedFault[];
  result: CheckResult;
}

const CANDIDATE = new URL('./candidate.ts', import.meta.url);

interface Slot {
  index: number;
  kind: 'library' | 'sidecar';
  /** Library: writes without the synchronous lease check. */
  unguarded: boolean;
  identity: string;
  proxy: TcpProxy;
  child: ChildHandle | undefined;
  /** Token of the term the process believes it holds, from its events. */
  leading: number | null;
  paused: boolean;
  /** The harness killed it on purpose (its exit is not a crash). */
  killed: boolean;
  /** Library: its elector has observed a leader (it is up and could take over). */
  observing?: boolean;
}

/** The longest leaderless gap allowed once faults have stopped. */
export function leaderlessBound(timings: LeaseTimings, slackMs: number): number {
  return Math.round(timings.leaseDurationMs + 2 * timings.retryPeriodMs * (1 + JITTER_FACTOR) + slackMs);
}

/**
 * One safety run: N candidate processes on one backend, each behind its own TCP proxy, a
 * protected resource that enforces fencing, and the seeded fault schedule; then the checker.
 */
export async function runHarness(options: HarnessOptions): Promise<HarnessRun> {
  const log = options.log ?? (() => {});
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `baton-harness-${options.backend}-`));
  mkdirSync(dir, { recursive: true });
  const n = options.candidates ?? 5;
  const sidecars = options.sidecars ?? 0;
  const unguarded = Math.min(n, options.unguarded ?? 1);
  const kinds = options.kinds ?? FAULT_KINDS;
  const timings = options.timings;
  const slack = options.recoverySlackMs ?? 2_500;
  const boundMs = leaderlessBound(timings, slack);
  const faultCount = options.faults;
  const phaseMs = options.faultPhaseMs;
  if ((faultCount === undefined) === (phaseMs === undefined)) throw new TypeError('runHarness: give either faultPhaseMs or faults');
  const scheduleOptions = { seed: options.seed, kinds, timings, calm: options.calm ?? 1 };
  // What the run is expected to inject; a skipped fault (no live target) is replaced by the
  // next one of the same stream, so a count-based run still injects `faults`.
  const planned = faultCount === undefined ? planFaults({ ...scheduleOptions, phaseMs: phaseMs! }) : planFaults({ ...scheduleOptions, count: faultCount });
  const schedule: PlannedFault[] = [];
  const prng = new Prng(options.seed ^ 0x9e3779b9);
  const events: HarnessEvent[] = [];
  const record = (event: HarnessEvent): void => void events.push(event);
  const lockName = `harness-${runId}`;

  log(`harness: backend ${options.backend}, ${n} library candidates (${unguarded} unguarded) + ${sidecars} baton run, seed ${options.seed}, timings ${timings.leaseDurationMs}/${timings.renewDeadlineMs}/${timings.retryPeriodMs} ms, dir ${dir}`);
  for (const f of planned) log(`  planned ${describeFault(f)}`);

  const driver = await loadDriver(options.backend);
  const server: BackendServer = await driver.startServer({ dir, runId, dedicatedPostgres: options.dedicatedPostgres, log });
  const resource = new ProtectedResource();
  const resourceUrl = await resource.start();
  const slots: Slot[] = [];
  let shuttingDown = false;
  const t0 = now();

  let spawns = 0;
  const writeIntervalMs = options.writeIntervalMs ?? 50;
  const spawnCandidate = (slot: Slot): void => {
    if (slot.kind === 'sidecar') {
      const spawnId = `s${slot.index}-${++spawns}`;
      const child = spawnSidecar({
        flags: driver.batonFlags(server.connectInfo({ host: '127.0.0.1', port: slot.proxy.port }), dir),
        lockName,
        identity: slot.identity,
        slot: slot.index,
        spawnId,
        timings,
        resourceUrl,
        dir,
        writeIntervalMs,
      });
      adopt(slot, child, spawnId);
      // The command may be SIGKILLed by its watchdog and leave no `stop`: baton's log says it exited.
      onCommandExited(child, () => {
        if (slot.child === child) slot.leading = null;
      });
      return;
    }
    const env: Record<string, string> = {
      BATON_BACKEND: options.backend,
      BATON_CONNECT: JSON.stringify(server.connectInfo({ host: '127.0.0.1', port: slot.proxy.port })),
      BATON_LOCK: lockName,
      BATON_IDENTITY: slot.identity,
      BATON_SLOT: String(slot.index),
      BATON_LABEL: `c${slot.index}`,
      BATON_TIMINGS: JSON.stringify(timings),
      BATON_WATCH: '1',
      BATON_RESOURCE: resourceUrl,
      BATON_WRITE_INTERVAL: String(writeIntervalMs),
      BATON_GUARD: slot.unguarded ? '0' : '1',
      BATON_HISTORY: join(dir, `candidate-${slot.index}-${Date.now()}-${Math.floor(prng.next() * 1e9)}.jsonl`),
    };
    adopt(slot, new ChildHandle(CANDIDATE, { env, label: `candidate ${slot.index}`, keepEvents: false }));
  };

  /** Tracks a freshly spawned candidate process in its slot, restarting it if it dies on its own. */
  const adopt = (slot: Slot, child: ChildHandle, spawnId?: string): void => {
    slot.child = child;
    slot.leading = null;
    slot.paused = false;
    slot.killed = false;
    record({ src: 'harness', ev: 'spawn', t: now(), pid: child.pid, slot: slot.index, identity: slot.identity, ...(spawnId === undefined ? {} : { spawnId }) });
    child.onEvent((event: ChildEvent) => {
      if (slot.child !== child) return;
      if (event.ev === 'start') slot.leading = Number(event.token);
      if (event.ev === 'leader' || event.ev === 'start') slot.observing = true;
      if (event.ev === 'stop' && slot.leading === Number(event.token)) slot.leading = null;
    });
    void child.exited.then(() => {
      record({ src: 'harness', ev: 'exit', t: child.exitedAt ?? now(), pid: child.pid, slot: slot.index, code: child.exitCode, signal: child.exitSignal });
      if (slot.child !== child) return;
      slot.leading = null;
      if (!slot.killed && !shuttingDown) {
        // A crash of its own: restart it as a supervisor would, and let the checker report it.
        log(`  candidate ${slot.index} (pid ${child.pid}) exited on its own (${child.exitSignal ?? child.exitCode}): ${child.stderr.split('\n').slice(-3).join(' | ')}`);
        setTimeout(() => {
          if (!shuttingDown && slot.child === child) spawnCandidate(slot);
        }, 500);
      }
    });
  };

  const leader = (): Slot | undefined => slots.find((s) => s.leading !== null && s.child?.alive && !s.paused);
  let faultsEndAt = t0;
  let endAt = t0;
  try {
    for (let i = 0; i < n + sidecars; i++) {
      const proxy = new TcpProxy(server.address);
      await proxy.start();
      const kind = i < n ? 'library' : 'sidecar';
      // The last library slots are the unguarded ones.
      const slot: Slot = { index: i, kind, unguarded: kind === 'library' && i >= n - unguarded, identity: kind === 'library' ? `c${i}` : `s${i}`, proxy, child: undefined, leading: null, paused: false, killed: false };
      slots.push(slot);
    }
    // Sidecars first, and one of them leads before the others start: even a short run then
    // has a `baton run` command as its first leader, the first target of its faults.
    const order = [...slots.filter((s) => s.kind === 'sidecar'), ...slots.filter((s) => s.kind === 'library')];
    for (const slot of order) {
      if (slot.kind === 'library' && sidecars > 0 && leader() === undefined) await waitUntil(() => leader() !== undefined, 'a baton run to lead first', 60_000);
      spawnCandidate(slot);
    }
    await waitUntil(() => leader() !== undefined, 'the first leader', 60_000);
    log(`  first leader: candidate ${leader()!.index} after ${((now() - t0) / 1000).toFixed(1)} s`);
    // Faults begin once every library candidate is up and following: on a loaded machine the
    // first fault (a pause of the first leader) otherwise came before anyone could take over,
    // and the run tested start-up time instead of the fault.
    await waitUntil(() => slots.every((s) => s.kind !== 'library' || s.observing === true), 'every library candidate to observe the leader', 60_000);

    const phaseStart = now();
    let injected = 0;
    for (const fault of faultStream(scheduleOptions)) {
      if (faultCount === undefined ? endsPhase(fault, phaseMs!, kinds) : injected >= faultCount) break;
      schedule.push(fault);
      await sleep(phaseStart + fault.at - now());
      if (await inject(fault)) injected++;
    }
    faultsEndAt = now();
    log(`  faults done; recovering for ${boundMs + 1500} ms (bound ${boundMs} ms)`);
    await sleep(boundMs + 1_500);
    endAt = now();
  } finally {
    shuttingDown = true;
    if (endAt === t0) endAt = now();
    if (faultsEndAt === t0) faultsEndAt = endAt;
    for (const slot of slots) {
      slot.proxy.heal();
      slot.child?.signal('SIGCONT');
    }
    await Promise.all(slots.map((s) => s.child?.terminate(8_000)));
    await Promise.all(slots.map((s) => s.proxy.close()));
    await resource.stop();
    await server.stop().catch((error: unknown) => log(`  stopping the backend failed: ${String(error)}`));
  }

  /** Injects one fault; false when it was skipped (no live candidate to hit). */
  async function inject(fault: PlannedFault): Promise<boolean> {
    const startAt = now();
    const current = leader();
    const alive = slots.filter((s) => s.child?.alive && !s.paused);
    let target: Slot | undefined;
    if (fault.target === 'leader') target = current ?? (alive.length > 0 ? prng.pick(alive) : undefined);
    else if (fault.target === 'follower') {
      const followers = alive.filter((s) => s !== current);
      target = followers.length > 0 ? prng.pick(followers) : current;
    }
    const base = { src: 'harness' as const, ev: 'fault' as const, index: fault.index, kind: fault.kind };
    if (fault.target !== 'backend' && (!target || !target.child)) {
      record({ ...base, t: startAt, phase: 'start', skipped: true, detail: 'no live candidate' });
      return false;
    }
    const pid = target?.child?.pid;
    const targetWasLeader = target !== undefined && target === current;
    const startEvent = (detail: string): void =>
      record({ ...base, t: now(), phase: 'start', target: fault.target === 'backend' ? 'backend' : pid, targetWasLeader, detail });
    const endEvent = (detail = ''): void => record({ ...base, t: now(), phase: 'end', target: fault.target === 'backend' ? 'backend' : pid, detail });
    log(`  ${describeFault(fault)} → ${fault.target === 'backend' ? 'backend' : `candidate ${target!.index} (pid ${pid})${targetWasLeader ? ' [leader]' : ''}`}`);

    switch (fault.kind) {
      case 'kill': {
        const slot = target!;
        const child = slot.child!;
        startEvent('SIGKILL');
        slot.killed = true;
        record({ src: 'harness', ev: 'kill', t: now(), pid: child.pid, slot: slot.index });
        child.signal('SIGKILL');
        slot.leading = null;
        await child.exited;
        await sleep(fault.durationMs);
        spawnCandidate(slot);
        endEvent(`replacement pid ${slot.child!.pid}`);
        break;
      }
      case 'pause': {
        const slot = target!;
        const child = slot.child!;
        startEvent('SIGSTOP');
        record({ src: 'harness', ev: 'pause', t: now(), pid: child.pid, slot: slot.index });
        child.signal('SIGSTOP');
        slot.paused = true;
        await sleep(fault.durationMs);
        record({ src: 'harness', ev: 'resume', t: now(), pid: child.pid, slot: slot.index });
        child.signal('SIGCONT');
        slot.paused = false;
        endEvent('SIGCONT');
        break;
      }
      case 'proxy-cut':
      case 'proxy-drop':
      case 'proxy-delay': {
        const proxy = target!.proxy;
        if (fault.kind === 'proxy-cut') proxy.cut();
        else if (fault.kind === 'proxy-drop') proxy.hang();
        else proxy.setDelay(fault.delayMs ?? 0);
        startEvent(fault.kind === 'proxy-delay' ? `+${fault.delayMs} ms each way` : fault.kind);
        await sleep(fault.durationMs);
        proxy.heal();
        endEvent();
        break;
      }
      case 'backend-restart': {
        if (server.restartIsReal === false) {
          // A shared server is not restarted: cut everyone off, end the run's sessions, reconnect later.
          for (const slot of slots) slot.proxy.cut();
          const what = await server.restart(0);
          startEvent(`${what}; all proxies cut for ${fault.durationMs} ms`);
          await sleep(fault.durationMs);
          for (const slot of slots) slot.proxy.heal();
          endEvent();
        } else {
          startEvent(`restart, ${fault.durationMs} ms down`);
          const what = await server.restart(fault.durationMs);
          endEvent(what);
        }
        break;
      }
    }
    return true;
  }

  // ---- the history ----------------------------------------------------------------------
  const runInfo: RunInfo = {
    src: 'harness',
    ev: 'run',
    t: t0,
    backend: options.backend,
    seed: options.seed,
    candidates: n + sidecars,
    leaseDurationMs: timings.leaseDurationMs,
    renewDeadlineMs: timings.renewDeadlineMs,
    retryPeriodMs: timings.retryPeriodMs,
    faultsEndAt,
    endAt,
    leaderlessBoundMs: boundMs,
    clockToleranceMs: options.clockToleranceMs ?? 0.5,
  };
  const history: HistoryEvent[] = [runInfo, ...events, ...resource.log];
  for (const file of readdirSync(dir).filter((f) => f.startsWith('candidate-') && f.endsWith('.jsonl'))) {
    history.push(...parseHistory(readFileSync(join(dir, file), 'utf8')));
  }
  history.sort((a, b) => a.t - b.t);
  const historyFile = join(dir, 'history.jsonl');
  writeFileSync(historyFile, history.map((e) => JSON.stringify(e)).join('\n') + '\n');
  writeFileSync(join(dir, 'schedule.json'), JSON.stringify({ seed: options.seed, timings, kinds, calm: options.calm ?? 1, ...(faultCount === undefined ? { faultPhaseMs: phaseMs } : { faults: faultCount }), schedule }, null, 2));
  const result = checkHistory(history);
  writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2));
  return { dir, historyFile, schedule, result };
}
