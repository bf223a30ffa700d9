// What the peers section races against each other: one lock implementation, its workers.

/** A named lock implementation under test: acquire returns a release function. */
export interface Contender {
  name: string;
  /** How the implementation was configured, for the record. */
  settings: string;
  /** One worker's view: its own connection(s). */
  worker(index: number): Promise<Worker>;
  close(): Promise<void>;
}

export interface Worker {
  acquire(resource: string): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
