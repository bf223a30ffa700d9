#!/usr/bin/env node
// Serves the fake kube-apiserver on a port and writes a kubeconfig, for demos and for trying it
// with kubectl:
//
//   node packages/fake-kube-apiserver/bin/fake-kube-apiserver.ts --port 6443 --kubeconfig /tmp/kc
//   kubectl --kubeconfig /tmp/kc get leases -w
//
// Options:
//   --port N               port to listen on (default 6443; 0 = any free port)
//   --host ADDR            address to bind (default 127.0.0.1)
//   --kubeconfig PATH      where to write the admin kubeconfig (default ./kubeconfig.fake)
//   --token TOKEN          the admin bearer token (default: generated)
//   --tokens FILE          JSON file: { "<token>": "admin" | { "user": "...", "rules": [RbacRule, ...] } }
//   --bookmark-interval MS interval of watch BOOKMARK events (default 60000)
//   --no-anonymous         requests without a token get 401 instead of being system:anonymous
//   --auto-create-namespaces  creating in a missing namespace creates it (default: a 404, as a
//                          real server answers; --strict-namespaces is accepted and is the default)
//
// Prints one JSON line {"url","kubeconfig","adminToken"} when ready; stops on SIGINT/SIGTERM.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startFakeApiServer, type FakeApiServerOptions } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '6443' },
    host: { type: 'string', default: '127.0.0.1' },
    kubeconfig: { type: 'string', default: 'kubeconfig.fake' },
    token: { type: 'string' },
    tokens: { type: 'string' },
    'bookmark-interval': { type: 'string' },
    'no-anonymous': { type: 'boolean', default: false },
    'auto-create-namespaces': { type: 'boolean', default: false },
    'strict-namespaces': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  const text = readFileSync(new URL(import.meta.url), 'utf8');
  const usage = text
    .split('\n')
    .filter((l) => l.startsWith('//'))
    .map((l) => l.replace(/^\/\/ ?/, ''))
    .join('\n');
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

const tokens: NonNullable<FakeApiServerOptions['tokens']> = {};
if (values.tokens) Object.assign(tokens, JSON.parse(readFileSync(values.tokens, 'utf8')) as typeof tokens);
if (values.token) tokens[values.token] = 'admin';

const opts: FakeApiServerOptions = {
  port: Number(values.port),
  host: values.host,
  kubeconfigPath: resolve(values.kubeconfig),
  anonymousAuth: !values['no-anonymous'],
  autoCreateNamespaces: values['auto-create-namespaces'] && !values['strict-namespaces'],
};
if (Object.keys(tokens).length > 0) opts.tokens = tokens;
if (values['bookmark-interval']) opts.bookmarkIntervalMs = Number(values['bookmark-interval']);

const server = await startFakeApiServer(opts);
process.stdout.write(`${JSON.stringify({ url: server.url, kubeconfig: server.kubeconfigPath, adminToken: server.adminToken })}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  server.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
