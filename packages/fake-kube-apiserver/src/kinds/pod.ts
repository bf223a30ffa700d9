// core/v1 Pod: stored and served, never scheduled or run. Enough defaulting and validation for a
// Pod to look real to a client (phase Pending, the usual spec defaults, spec mostly immutable).

import { S, f } from '../schema.ts';
import { fieldErr, type FieldError } from '../status.ts';
import { dns1123Label, dns1123Subdomain } from '../validation.ts';
import { ALL_VERBS, ageColumn, nameColumn, typedObject } from './common.ts';
import { str, type KindDef, type Obj } from './types.ts';

function containers(spec: Obj, field: 'containers' | 'initContainers'): Obj[] {
  return Array.isArray(spec[field]) ? (spec[field] as Obj[]) : [];
}

function defaultContainer(c: Obj): void {
  if (!c.imagePullPolicy) {
    const image = str(c.image);
    const tag = image.includes('@') ? 'digest' : (/:([^/:]+)$/.exec(image)?.[1] ?? 'latest');
    c.imagePullPolicy = tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
}

function defaultSpec(spec: Obj): void {
  for (const c of [...containers(spec, 'containers'), ...containers(spec, 'initContainers')]) defaultContainer(c);
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.priority ??= 0;
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
}

function validatePodSpec(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const list = containers(spec, 'containers');
  if (list.length === 0) errs.push(fieldErr.required('spec.containers'));
  const names = new Set<string>();
  for (const field of ['initContainers', 'containers'] as const) {
    containers(spec, field).forEach((c, i) => {
      const p = `spec.${field}[${i}]`;
      const name = str(c.name);
      if (!name) errs.push(fieldErr.required(`${p}.name`));
      else {
        for (const m of dns1123Label(name)) errs.push(fieldErr.invalid(`${p}.name`, name, m));
        if (names.has(name)) errs.push(fieldErr.duplicate(`${p}.name`, name));
        names.add(name);
      }
      if (!str(c.image).trim()) errs.push(fieldErr.required(`${p}.image`));
    });
  }
  const restart = str(spec.restartPolicy);
  if (!['Always', 'OnFailure', 'Never'].includes(restart)) {
    errs.push(fieldErr.notSupported('spec.restartPolicy', restart, ['Always', 'OnFailure', 'Never']));
  }
  return errs;
}

/** The spec with everything a Pod update may change blanked out. */
function immutablePart(spec: Obj): string {
  const copy = structuredClone(spec);
  for (const field of ['containers', 'initContainers'] as const) {
    for (const c of containers(copy, field)) delete c.image;
  }
  delete copy.activeDeadlineSeconds;
  delete copy.tolerations;
  delete copy.terminationGracePeriodSeconds;
  return JSON.stringify(copy);
}

function podStatusCell(o: Obj): string {
  if ((o.metadata as Obj | undefined)?.deletionTimestamp) return 'Terminating';
  return str(((o.status ?? {}) as Obj).phase) || 'Unknown';
}

function readyCell(o: Obj): string {
  const total = containers((o.spec ?? {}) as Obj, 'containers').length;
  const statuses = (((o.status ?? {}) as Obj).containerStatuses ?? []) as Obj[];
  return `${statuses.filter((s) => s.ready === true).length}/${total}`;
}

export const pod: KindDef = {
  group: '',
  version: 'v1',
  resource: 'pods',
  singular: 'pod',
  kind: 'Pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  verbs: ALL_VERBS,
  storageKey: 'pods',
  schema: typedObject('Pod', [f('spec', S.any, 'always'), f('status', S.any, 'always')]),
  nameValidator: dns1123Subdomain,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  returnDeletedObject: true,
  tracksGeneration: true,
  preservesStatus: true,
  prepareForCreate(obj) {
    obj.spec = (obj.spec ?? {}) as Obj;
    defaultSpec(obj.spec as Obj);
    obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
  },
  prepareForUpdate(obj) {
    obj.spec = (obj.spec ?? {}) as Obj;
    defaultSpec(obj.spec as Obj);
  },
  validate: (obj) => validatePodSpec((obj.spec ?? {}) as Obj),
  validateUpdate(obj, old) {
    const errs = validatePodSpec((obj.spec ?? {}) as Obj);
    if (immutablePart((obj.spec ?? {}) as Obj) !== immutablePart((old.spec ?? {}) as Obj)) {
      errs.push(
        fieldErr.forbidden(
          'spec',
          'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
        ),
      );
    }
    return errs;
  },
  fieldLabels: {
    'spec.nodeName': (o) => str(((o.spec ?? {}) as Obj).nodeName),
    'spec.restartPolicy': (o) => str(((o.spec ?? {}) as Obj).restartPolicy),
    'spec.schedulerName': (o) => str(((o.spec ?? {}) as Obj).schedulerName),
    'spec.serviceAccountName': (o) => str(((o.spec ?? {}) as Obj).serviceAccountName),
    'spec.hostNetwork': (o) => String(((o.spec ?? {}) as Obj).hostNetwork === true),
    'status.phase': (o) => str(((o.status ?? {}) as Obj).phase),
    'status.podIP': (o) => str(((o.status ?? {}) as Obj).podIP),
    'status.nominatedNodeName': (o) => str(((o.status ?? {}) as Obj).nominatedNodeName),
  },
  columns: [
    nameColumn,
    { name: 'Ready', type: 'string', format: '', description: 'The aggregate readiness state of this pod for accepting traffic.', priority: 0, cell: readyCell },
    { name: 'Status', type: 'string', format: '', description: 'The aggregate status of the containers in this pod.', priority: 0, cell: podStatusCell },
    { name: 'Restarts', type: 'string', format: '', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.', priority: 0, cell: () => '0' },
    ageColumn,
    { name: 'IP', type: 'string', format: '', description: 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', priority: 1, cell: (o) => str(((o.status ?? {}) as Obj).podIP) || '<none>' },
    { name: 'Node', type: 'string', format: '', description: 'NodeName is a request to schedule this pod onto a specific node.', priority: 1, cell: (o) => str(((o.spec ?? {}) as Obj).nodeName) || '<none>' },
    { name: 'Nominated Node', type: 'string', format: '', description: 'nominatedNodeName is set only when this pod preempts other pods on the node.', priority: 1, cell: (o) => str(((o.status ?? {}) as Obj).nominatedNodeName) || '<none>' },
    { name: 'Readiness Gates', type: 'string', format: '', description: 'If specified, all readiness gates will be evaluated for pod readiness.', priority: 1, cell: () => '<none>' },
  ],
};
