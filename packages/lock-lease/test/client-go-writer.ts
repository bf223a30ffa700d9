import type { FakeApiServer } from '@baton/fake-kube-apiserver';
import { request } from 'node:http';

/** client-go's LeaderElectionRecord, as its resourcelock package writes it. */
export interface GoRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaderTransitions: number;
}

type Json = Record<string, unknown> & { metadata: { annotations?: Record<string, string> }; spec?: Record<string, unknown> };

/**
 * A writer that behaves as client-go's resourcelock does, over raw HTTP (not baton's code):
 * it GETs the object and PUTs it back with its record — on a Lease the spec's five fields
 * (annotations it did not write are kept, as client-go keeps them), on Endpoints and
 * ConfigMaps the whole leader annotation rewritten from its own five fields.
 */
export class ClientGoWriter {
  private readonly fake: FakeApiServer;
  private readonly token: string;

  constructor(fake: FakeApiServer) {
    this.fake = fake;
    this.token = fake.kubeConfig.getCurrentUser()!.token!;
  }

  async writeLease(namespace: string, name: string, record: GoRecord): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`;
    const lease = await this.call<Json>('GET', path);
    lease.spec = {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      acquireTime: record.acquireTime,
      renewTime: record.renewTime,
      leaseTransitions: record.leaderTransitions,
    };
    await this.call('PUT', path, lease);
  }

  async writeAnnotation(namespace: string, plural: 'endpoints' | 'configmaps', name: string, record: GoRecord | Record<string, unknown>): Promise<void> {
    const path = `/api/v1/namespaces/${namespace}/${plural}/${name}`;
    const object = await this.call<Json>('GET', path);
    object.metadata.annotations = { ...object.metadata.annotations, 'control-plane.alpha.kubernetes.io/leader': JSON.stringify(record) };
    await this.call('PUT', path, object);
  }

  /**
   * Not client-go: a writer that merges its fields into the annotation's JSON it read instead
   * of rewriting it, so the fields it does not know (baton's) survive its takeover.
   */
  async mergeAnnotation(namespace: string, plural: 'endpoints' | 'configmaps', name: string, fields: Record<string, unknown>): Promise<void> {
    const path = `/api/v1/namespaces/${namespace}/${plural}/${name}`;
    const object = await this.call<Json>('GET', path);
    const current = JSON.parse(object.metadata.annotations?.['control-plane.alpha.kubernetes.io/leader'] ?? '{}') as Record<string, unknown>;
    object.metadata.annotations = { ...object.metadata.annotations, 'control-plane.alpha.kubernetes.io/leader': JSON.stringify({ ...current, ...fields }) };
    await this.call('PUT', path, object);
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.fake.url);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          headers: { Authorization: `Bearer ${this.token}`, Accept: 'application/json', ...(payload && { 'Content-Type': 'application/json' }) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve(JSON.parse(text) as T) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}

/** A MicroTime for now, as client-go writes it. */
export const microNow = (): string => new Date().toISOString().replace(/Z$/, '000Z');
