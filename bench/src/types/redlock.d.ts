// Minimal typings for redlock 4.2.0 (the package ships none); only what the bench uses.
declare module 'redlock' {
  import type { EventEmitter } from 'node:events';

  namespace Redlock {
    interface Lock {
      resource: string;
      value: string;
      unlock(): Promise<void>;
      extend(ttl: number): Promise<Lock>;
    }
    interface Options {
      driftFactor?: number;
      retryCount?: number;
      retryDelay?: number;
      retryJitter?: number;
    }
  }

  class Redlock extends EventEmitter {
    constructor(clients: unknown[], options?: Redlock.Options);
    lock(resource: string | string[], ttl: number): Promise<Redlock.Lock>;
    quit(): Promise<void>;
  }

  export = Redlock;
}
