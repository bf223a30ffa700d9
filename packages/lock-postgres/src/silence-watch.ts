import type { Clock, TimerHandle } from '@baton/core';

/** A term shorter than this marks a lock as handed over rapidly (see {@link SilenceWatch.first}). */
const SHORT_TERM_MS = 1_000;

/** What a {@link SilenceWatch} knows of one lock held by another process. */
interface Held {
  /** Undefined until the first look at a newly watched lock. */
  holder: string | undefined;
  /** Clock time the last write of this holder was seen. */
  seenAt: number;
  /** Clock time between the holder's last two writes seen (its renewal period), once known. */
  period: number | undefined;
  leaseDurationMs: number;
  /** Clock time from which the holder counts as silent. */
  silentAt: number;
}

/** How a {@link SilenceWatch} judges silence. */
export interface SilenceWatchSettings {
  clock: Clock;
  /** The shortest silence that calls for a check (the holder check interval). */
  minSilenceMs: number;
  /** Runs with the names whose holder has gone silent. */
  onSilent(names: string[]): void;
}

/**
 * Decides when a follower checks whether a lock's holder is still there, without polling: a
 * live holder renews every retryPeriod, and each renewal reaches the watchers as a NOTIFY.
 * A holder that crashed sends nothing; its advisory lock is gone at once, but nobody is told.
 * So the silence after a holder's last write is what triggers the one holder-check query:
 * once it lasts 1.5 × the period between the holder's last two writes (as seen on this
 * clock), or half the lease before a period is known — never less than `minSilenceMs` and
 * never more than the lease (the elector reads at expiry anyway).
 *
 * Only locks held by someone else are tracked (the caller leaves out released records and
 * locks held in this process). One timer for all of them.
 */
export class SilenceWatch {
  private readonly settings: SilenceWatchSettings;
  private readonly held = new Map<string, Held>();
  /** Names in `held` whose holder is known, in the order they were first seen held. */
  private readonly known = new Set<string>();
  /** Per name: the holder last seen (undefined: none) and since when, and whether the term before was short. */
  private readonly terms = new Map<string, { holder: string | undefined; since: number; shortBefore: boolean }>();
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(settings: SilenceWatchSettings) {
    this.settings = settings;
  }

  /** A write of `name` naming `holder` (a live holder) was seen now. */
  wrote(name: string, holder: string, leaseDurationMs: number): void {
    this.noteHolder(name, holder);
    const now = this.settings.clock.now();
    const previous = this.held.get(name);
    const period = previous !== undefined && previous.holder === holder ? now - previous.seenAt : undefined;
    const silence = period !== undefined ? period * 1.5 : leaseDurationMs / 2;
    const bounded = Math.min(Math.max(silence, this.settings.minSilenceMs), leaseDurationMs);
    this.track(name, { holder, seenAt: now, period, leaseDurationMs, silentAt: now + bounded });
  }

  /**
   * A newly watched lock of which nothing is known yet: look at it after `minSilenceMs`, unless
   * a read or a notification tells first.
   */
  lookSoon(name: string): void {
    if (this.held.has(name)) return;
    const now = this.settings.clock.now();
    this.track(name, { holder: undefined, seenAt: now, period: undefined, leaseDurationMs: Number.POSITIVE_INFINITY, silentAt: now + this.settings.minSilenceMs });
  }

  /** A read showed `holder` holding `name` (a live holder): tracked from now on, or watched again after a check. */
  sawHolder(name: string, holder: string, leaseDurationMs: number): void {
    this.noteHolder(name, holder);
    if (this.held.get(name)?.holder === holder) {
      this.stillThere(name);
      return;
    }
    const now = this.settings.clock.now();
    const silence = Math.min(Math.max(leaseDurationMs / 2, this.settings.minSilenceMs), leaseDurationMs);
    this.track(name, { holder, seenAt: now, period: undefined, leaseDurationMs, silentAt: now + silence });
  }

  /** The holder was checked and is still there: look again after another period of silence. */
  stillThere(name: string): void {
    const entry = this.held.get(name);
    if (entry === undefined) return;
    const now = this.settings.clock.now();
    const wait = Math.min(Math.max(entry.period ?? entry.leaseDurationMs / 2, this.settings.minSilenceMs), entry.leaseDurationMs);
    entry.silentAt = now + wait;
    this.arm(entry.silentAt);
  }

  /**
   * The lock held elsewhere tracked longest, if any (the one a single blocking wait is spent
   * on) — skipping a lock whose terms are short (a mutex handed over every few milliseconds)
   * until its holder has held it for a second: there a wait would be granted at every
   * handover, cost a statement each time, and its instant of holding the shared lock would
   * make the next holder's `pg_try_advisory_lock` fail.
   */
  first(): string | undefined {
    const now = this.settings.clock.now();
    for (const name of this.known) {
      const term = this.terms.get(name);
      if (term === undefined || !term.shortBefore || now - term.since >= SHORT_TERM_MS) return name;
    }
    return undefined;
  }

  /** Tracked names whose holder is one of `holders`. */
  heldBy(holders: ReadonlySet<string>): string[] {
    if (holders.size === 0) return [];
    const names: string[] = [];
    for (const name of this.known) if (holders.has(this.held.get(name)!.holder!)) names.push(name);
    return names;
  }

  /** Stops tracking `name` (released, held here, gone, or no longer watched). */
  forget(name: string): void {
    this.noteHolder(name, undefined);
    this.held.delete(name);
    this.known.delete(name);
  }

  /** Forgets everything about `name` (no longer watched). */
  drop(name: string): void {
    this.forget(name);
    this.terms.delete(name);
  }

  close(): void {
    this.held.clear();
    this.known.clear();
    this.terms.clear();
    this.disarm();
  }

  /** Keeps the term history of `name`: a holder change ends the term before it. */
  private noteHolder(name: string, holder: string | undefined): void {
    const term = this.terms.get(name);
    if (term !== undefined && term.holder === holder) return;
    const now = this.settings.clock.now();
    // A term that ended decides; passing through "no holder" keeps what the last term said.
    const shortBefore = term === undefined ? false : term.holder !== undefined ? now - term.since < SHORT_TERM_MS : term.shortBefore;
    this.terms.set(name, { holder, since: now, shortBefore });
  }

  private track(name: string, entry: Held): void {
    this.held.set(name, entry);
    if (entry.holder !== undefined) this.known.add(name);
    else this.known.delete(name);
    this.arm(entry.silentAt);
  }

  /**
   * Makes sure the timer fires by `at`. A deadline that moved later leaves the timer early:
   * it then finds nothing due and re-arms for the earliest one (so each call is O(1)).
   */
  private arm(at: number): void {
    if (at >= this.timerAt || at === Number.POSITIVE_INFINITY) return;
    this.disarm();
    const { clock } = this.settings;
    this.timerAt = at;
    this.timer = clock.setTimeout(() => this.fire(), Math.max(0, at - clock.now()));
  }

  private disarm(): void {
    if (this.timer !== undefined) this.settings.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.settings.clock.now();
    const silent: string[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [name, entry] of this.held) {
      if (entry.silentAt <= now) {
        silent.push(name);
        // Until the check answers (stillThere or forget), do not ask again within the lease.
        entry.silentAt = now + entry.leaseDurationMs;
      }
      if (entry.silentAt < next) next = entry.silentAt;
    }
    this.arm(next);
    if (silent.length > 0) this.settings.onSilent(silent);
  }
}
