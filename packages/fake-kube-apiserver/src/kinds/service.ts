// core/v1 Service: stored and served with a ClusterIP allocated; no proxying.

import { S, f } from '../schema.ts';
import { fieldErr, type FieldError } from '../status.ts';
import { dns1035Label } from '../validation.ts';
import { ALL_VERBS, ageColumn, nameColumn, typedObject } from './common.ts';
import { str, type KindDef, type Obj } from './types.ts';

const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function spec(o: Obj): Obj {
  return (o.spec ?? {}) as Obj;
}

function ports(o: Obj): Obj[] {
  return Array.isArray(spec(o).ports) ? (spec(o).ports as Obj[]) : [];
}

function defaultSpec(s: Obj): void {
  s.type ??= 'ClusterIP';
  s.sessionAffinity ??= 'None';
  if (s.type !== 'ExternalName') {
    s.internalTrafficPolicy ??= 'Cluster';
    s.ipFamilies ??= ['IPv4'];
    s.ipFamilyPolicy ??= 'SingleStack';
  }
  for (const p of (Array.isArray(s.ports) ? s.ports : []) as Obj[]) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
}

function validateService(o: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(o);
  const type = str(s.type);
  if (!TYPES.includes(type)) errs.push(fieldErr.notSupported('spec.type', type, TYPES));
  const list = ports(o);
  if (list.length === 0 && s.clusterIP !== 'None' && type !== 'ExternalName') errs.push(fieldErr.required('spec.ports'));
  list.forEach((p, i) => {
    const pp = `spec.ports[${i}]`;
    const name = str(p.name);
    if (list.length > 1 && !name) errs.push(fieldErr.required(`${pp}.name`));
    const num = typeof p.port === 'number' ? p.port : 0;
    if (num < 1 || num > 65535) errs.push(fieldErr.invalid(`${pp}.port`, num, 'must be between 1 and 65535, inclusive'));
    const proto = str(p.protocol);
    if (!PROTOCOLS.includes(proto)) errs.push(fieldErr.notSupported(`${pp}.protocol`, proto, PROTOCOLS));
  });
  return errs;
}

function portsCell(o: Obj): string {
  const list = ports(o).map((p) => {
    const node = typeof p.nodePort === 'number' ? `:${p.nodePort}` : '';
    return `${String(p.port)}${node}/${str(p.protocol)}`;
  });
  return list.length ? list.join(',') : '<none>';
}

export const service: KindDef = {
  group: '',
  version: 'v1',
  resource: 'services',
  singular: 'service',
  kind: 'Service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageKey: 'services',
  schema: typedObject('Service', [f('spec', S.any, 'always'), f('status', S.any, 'always')]),
  nameValidator: dns1035Label,
  allowCreateOnUpdate: true,
  allowUnconditionalUpdate: true,
  returnDeletedObject: true,
  tracksGeneration: false,
  preservesStatus: true,
  prepareForCreate(obj, ctx) {
    const s = (obj.spec = spec(obj));
    defaultSpec(s);
    if (s.type !== 'ExternalName' && s.clusterIP !== 'None' && !s.clusterIP) s.clusterIP = ctx.allocateClusterIP();
    if (s.clusterIP && !s.clusterIPs) s.clusterIPs = [s.clusterIP];
    obj.status = { loadBalancer: {} };
  },
  prepareForUpdate(obj, old) {
    const s = (obj.spec = spec(obj));
    defaultSpec(s);
    const prev = spec(old);
    if (!s.clusterIP && prev.clusterIP) s.clusterIP = prev.clusterIP;
    if (!s.clusterIPs && prev.clusterIPs) s.clusterIPs = prev.clusterIPs;
  },
  validate: validateService,
  validateUpdate(obj, old) {
    const errs = validateService(obj);
    if (str(spec(obj).clusterIP) !== str(spec(old).clusterIP)) {
      errs.push(fieldErr.invalid('spec.clusterIPs[0]', str(spec(obj).clusterIP), 'may not change once set'));
    }
    return errs;
  },
  fieldLabels: {
    'spec.clusterIP': (o) => str(spec(o).clusterIP),
    'spec.type': (o) => str(spec(o).type),
  },
  columns: [
    nameColumn,
    { name: 'Type', type: 'string', format: '', description: 'type determines how the Service is exposed.', priority: 0, cell: (o) => str(spec(o).type) },
    { name: 'Cluster-IP', type: 'string', format: '', description: 'clusterIP is the IP address of the service and is usually assigned randomly.', priority: 0, cell: (o) => str(spec(o).clusterIP) || '<none>' },
    { name: 'External-IP', type: 'string', format: '', description: 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.', priority: 0, cell: (o) => ((spec(o).externalIPs ?? []) as string[]).join(',') || '<none>' },
    { name: 'Port(s)', type: 'string', format: '', description: 'The list of ports that are exposed by this service.', priority: 0, cell: portsCell },
    ageColumn,
    {
      name: 'Selector',
      type: 'string',
      format: '',
      description: 'Route service traffic to pods with label keys and values matching this selector.',
      priority: 1,
      cell: (o) =>
        Object.entries((spec(o).selector ?? {}) as Record<string, string>)
          .map(([k, v]) => `${k}=${v}`)
          .join(',') || '<none>',
    },
  ],
};
