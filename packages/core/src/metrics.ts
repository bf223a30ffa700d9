/**
 * Measurements the elector reports. Core depends on no metrics library: adapt this
 * interface to prom-client or anything else (`@baton/runtime` does). Every method is optional.
 * `name` is the elector's name (by default the lock's `describe()`).
 */
export interface ElectorMetrics {
  /** This elector started (`true`) or stopped (`false`) leading; client-go's `leader_election_master_status`. */
  leadershipChanged?(name: string, leading: boolean): void;
  /** A renewal by the leader finished after `durationMs`. */
  renewed?(name: string, durationMs: number, ok: boolean): void;
  /** An acquisition attempt by a candidate finished after `durationMs`. */
  acquireAttempted?(name: string, durationMs: number, acquired: boolean): void;
  /**
   * This elector took over `gapMs` after it saw the lock become free (released, expired,
   * or its holder's session gone): the handover time as seen from here.
   */
  handover?(name: string, gapMs: number): void;
}
