// A user's Redis application: its own ioredis client (5 or 6, whichever the project installed),
// a lock taken and released on the test Redis. Type-checked with skipLibCheck: false, run
// directly (Node 24) and bundled by esbuild (Node 20 and 24, from a directory without node_modules).
import { defaultIdentity, LeaderElector } from '@baton/core';
import { RedisLockFactory } from '@baton/lock-redis';
import { Redis } from 'ioredis';

const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: false });
const locks = new RedisLockFactory({ client, keyPrefix: `baton-consumer-${process.pid}:` });
const shutdown = new AbortController();
const elector = new LeaderElector({
  lock: locks.lock('consumer-app', defaultIdentity()),
  leaseDuration: '3s',
  renewDeadline: '2s',
  retryPeriod: '500ms',
  callbacks: {
    onStartedLeading: ({ fencingToken }) => {
      console.log(`redis-app: leading with fencing token ${fencingToken}`);
      shutdown.abort();
    },
  },
});
const timeout = setTimeout(() => {
  console.error('redis-app: not elected within 10 s');
  process.exit(1);
}, 10_000);
await elector.run(shutdown.signal);
clearTimeout(timeout);
await locks.close();
await client.del(`baton-consumer-${process.pid}:{consumer-app}`, `baton-consumer-${process.pid}:{consumer-app}:fence`);
client.disconnect();
console.log('redis-app: released');
