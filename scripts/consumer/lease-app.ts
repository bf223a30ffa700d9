// A user's Kubernetes application (Lease), against the fake API server the test started
// (KUBECONFIG); bundled by esbuild and run.
import { defaultIdentity, LeaderElector } from '@baton/core';
import { LeaseLockFactory } from '@baton/lock-lease';

const leases = new LeaseLockFactory({ namespace: 'default' });
const shutdown = new AbortController();
const elector = new LeaderElector({
  lock: leases.lock('consumer-app', defaultIdentity()),
  leaseDuration: '3s',
  renewDeadline: '2s',
  retryPeriod: '500ms',
  callbacks: {
    onStartedLeading: ({ fencingToken }) => {
      console.log(`lease-app: leading with fencing token ${fencingToken}`);
      shutdown.abort();
    },
  },
});
const timeout = setTimeout(() => {
  console.error('lease-app: not elected within 10 s');
  process.exit(1);
}, 10_000);
await elector.run(shutdown.signal);
clearTimeout(timeout);
console.log('lease-app: released');
