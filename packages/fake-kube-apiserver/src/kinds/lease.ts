// coordination.k8s.io/v1 Lease (pkg/registry/coordination/lease, pkg/apis/coordination/validation).

import { S, f } from '../schema.ts';
import { fieldErr, type FieldError } from '../status.ts';
import { dns1123Subdomain, qualifiedNameErrors } from '../validation.ts';
import { ALL_VERBS, ageColumn, nameColumn, typedObject } from './common.ts';
import { str, type KindDef, type Obj } from './types.ts';

const leaseSpec = S.object('LeaseSpec', [
  f('holderIdentity', S.string, 'pointer'),
  f('leaseDurationSeconds', S.int32, 'pointer'),
  f('acquireTime', S.microtime, 'pointer'),
  f('renewTime', S.microtime, 'pointer'),
  f('leaseTransitions', S.int32, 'pointer'),
  f('strategy', S.string, 'pointer'),
  f('preferredHolder', S.string, 'pointer'),
]);

const VALID_STRATEGIES = ['OldestEmulationVersion'];

function validateLease(obj: Obj): FieldError[] {
  const spec = (obj.spec ?? {}) as Obj;
  const errs: FieldError[] = [];
  if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) {
    errs.push(fieldErr.invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0) {
    errs.push(fieldErr.invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
  }
  if (typeof spec.strategy === 'string') {
    const strategy = spec.strategy;
    if (!strategy.includes('/')) {
      if (!VALID_STRATEGIES.includes(strategy)) errs.push(fieldErr.notSupported('spec.strategy', strategy, VALID_STRATEGIES));
    } else {
      for (const m of qualifiedNameErrors(strategy)) errs.push(fieldErr.invalid('spec.strategy', strategy, m));
    }
  }
  if (str(spec.preferredHolder) !== '' && str(spec.strategy) === '') {
    errs.push(fieldErr.forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
  }
  return errs;
}

export const lease: KindDef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  resource: 'leases',
  singular: 'lease',
  kind: 'Lease',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: ALL_VERBS,
  storageKey: 'leases.coordination.k8s.io',
  schema: typedObject('Lease', [f('spec', leaseSpec, 'always')]),
  nameValidator: dns1123Subdomain,
  allowCreateOnUpdate: true,
  allowUnconditionalUpdate: false,
  returnDeletedObject: false,
  tracksGeneration: false,
  preservesStatus: false,
  validate: validateLease,
  validateUpdate: validateLease,
  fieldLabels: {},
  columns: [
    nameColumn,
    {
      name: 'Holder',
      type: 'string',
      format: '',
      description:
        'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.',
      priority: 0,
      cell: (o) => str(((o.spec ?? {}) as Obj).holderIdentity),
    },
    ageColumn,
  ],
};
