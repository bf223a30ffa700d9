// @baton/fake-kube-apiserver: an HTTP Kubernetes API server for leader-election tests and demos.

export { startFakeApiServer } from './server.ts';
export type {
  FakeApiServer,
  FakeApiServerOptions,
  FaultHandle,
  FaultRequestInfo,
  FaultTarget,
  RbacRule,
  RequestRecord,
  TokenSpec,
} from './types.ts';
export type { Status, StatusDetails, StatusCause } from './status.ts';
export { kubeconfigYaml } from './kubeconfig.ts';
