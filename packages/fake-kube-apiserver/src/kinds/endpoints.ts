// core/v1 Endpoints (pkg/registry/core/endpoint, ValidateEndpoints). Also the object behind the
// legacy `control-plane.alpha.kubernetes.io/leader` annotation lock.

import { isIP } from 'node:net';
import { S, f } from '../schema.ts';
import { fieldErr, type FieldError } from '../status.ts';
import { dns1123Label, dns1123Subdomain } from '../validation.ts';
import { ALL_VERBS, ageColumn, nameColumn, objectReference, typedObject } from './common.ts';
import { str, type KindDef, type Obj } from './types.ts';

const endpointAddress = S.object('EndpointAddress', [
  f('ip', S.string, 'always'),
  f('hostname', S.string),
  f('nodeName', S.string, 'pointer'),
  f('targetRef', objectReference, 'pointer'),
]);

const endpointPort = S.object('EndpointPort', [
  f('name', S.string),
  f('port', S.int32, 'always'),
  f('protocol', S.string),
  f('appProtocol', S.string, 'pointer'),
]);

const endpointSubset = S.object('EndpointSubset', [
  f('addresses', S.array(endpointAddress)),
  f('notReadyAddresses', S.array(endpointAddress)),
  f('ports', S.array(endpointPort)),
]);

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function subsets(o: Obj): Obj[] {
  return (o.subsets ?? []) as Obj[];
}

function defaultPorts(obj: Obj): void {
  for (const subset of subsets(obj)) {
    for (const port of (subset.ports ?? []) as Obj[]) {
      if (!port.protocol) port.protocol = 'TCP';
    }
  }
}

function validateEndpoints(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  subsets(obj).forEach((subset, i) => {
    const p = `subsets[${i}]`;
    const addrs = (subset.addresses ?? []) as Obj[];
    const notReady = (subset.notReadyAddresses ?? []) as Obj[];
    const ports = (subset.ports ?? []) as Obj[];
    if (addrs.length === 0 && notReady.length === 0) {
      errs.push(fieldErr.required(p, 'must specify `addresses` or `notReadyAddresses`'));
    }
    for (const [field, list] of [
      ['addresses', addrs],
      ['notReadyAddresses', notReady],
    ] as const) {
      list.forEach((a, j) => {
        const ip = str(a.ip);
        if (!isIP(ip)) {
          errs.push(fieldErr.invalid(`${p}.${field}[${j}].ip`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
        }
        const host = str(a.hostname);
        if (host) for (const m of dns1123Label(host)) errs.push(fieldErr.invalid(`${p}.${field}[${j}].hostname`, host, m));
        const node = str(a.nodeName);
        if (node) for (const m of dns1123Subdomain(node)) errs.push(fieldErr.invalid(`${p}.${field}[${j}].nodeName`, node, m));
      });
    }
    ports.forEach((port, j) => {
      const pp = `${p}.ports[${j}]`;
      const name = str(port.name);
      if (ports.length > 1 && !name) errs.push(fieldErr.required(`${pp}.name`));
      else if (name) for (const m of dns1123Label(name)) errs.push(fieldErr.invalid(`${pp}.name`, name, m));
      const num = typeof port.port === 'number' ? port.port : 0;
      if (num < 1 || num > 65535) errs.push(fieldErr.invalid(`${pp}.port`, num, 'must be between 1 and 65535, inclusive'));
      const proto = str(port.protocol);
      if (!PROTOCOLS.includes(proto)) errs.push(fieldErr.notSupported(`${pp}.protocol`, proto, PROTOCOLS));
    });
  });
  return errs;
}

function endpointsCell(o: Obj): string {
  const list: string[] = [];
  let total = 0;
  for (const subset of subsets(o)) {
    const addrs = (subset.addresses ?? []) as Obj[];
    const ports = (subset.ports ?? []) as Obj[];
    for (const a of addrs) {
      if (ports.length === 0) {
        total++;
        if (list.length < 3) list.push(str(a.ip));
      }
      for (const port of ports) {
        total++;
        if (list.length < 3) list.push(`${str(a.ip)}:${String(port.port)}`);
      }
    }
  }
  if (total === 0) return '<none>';
  const more = total - list.length;
  return more > 0 ? `${list.join(',')} + ${more} more...` : list.join(',');
}

export const endpoints: KindDef = {
  group: '',
  version: 'v1',
  resource: 'endpoints',
  singular: 'endpoints',
  kind: 'Endpoints',
  namespaced: true,
  shortNames: ['ep'],
  categories: [],
  verbs: ALL_VERBS,
  storageKey: 'endpoints',
  schema: typedObject('Endpoints', [f('subsets', S.array(endpointSubset))]),
  nameValidator: dns1123Subdomain,
  allowCreateOnUpdate: true,
  allowUnconditionalUpdate: true,
  returnDeletedObject: false,
  tracksGeneration: false,
  preservesStatus: false,
  prepareForCreate: defaultPorts,
  prepareForUpdate: defaultPorts,
  validate: validateEndpoints,
  validateUpdate: validateEndpoints,
  fieldLabels: {},
  columns: [
    nameColumn,
    {
      name: 'Endpoints',
      type: 'string',
      format: '',
      description: 'Endpoints is a collection of endpoints that implement the actual service.',
      priority: 0,
      cell: endpointsCell,
    },
    ageColumn,
  ],
  warning: 'v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice',
};
