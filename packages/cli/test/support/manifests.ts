/**
 * deploy/kubernetes as the tests read it: the Roles bound to the ServiceAccount, the
 * Deployment's container and the baton.yaml of its ConfigMap — and the check that a set of
 * requests uses every verb a rule grants.
 */
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import type { RbacRule, RequestRecord } from '@baton/fake-kube-apiserver';

export const SERVICE_ACCOUNT = 'system:serviceaccount:default:my-app';
export const TOKEN = 'my-app-service-account';

export const manifest = (file: string): Record<string, any>[] =>
  parseAllDocuments(readFileSync(new URL(`../../../../deploy/kubernetes/${file}`, import.meta.url), 'utf8')).map((d) => d.toJS());

/** The rules of the Roles a file binds to the ServiceAccount, scoped to their namespace. */
export function boundRules(file: string): RbacRule[] {
  const docs = manifest(file);
  const bindings = docs.filter((d) => d.kind === 'RoleBinding' && d.subjects.some((s: any) => s.kind === 'ServiceAccount' && s.name === 'my-app'));
  return bindings.flatMap((binding) => {
    const role = docs.find((d) => d.kind === 'Role' && d.metadata.name === binding.roleRef.name)!;
    return role.rules.map((rule: RbacRule) => ({ ...rule, namespaces: [role.metadata.namespace] }));
  });
}

/** The baton.yaml of the ConfigMap in deployment.yaml. */
export function deployedConfig(): Record<string, any> {
  const configMap = manifest('deployment.yaml').find((d) => d.kind === 'ConfigMap')!;
  return parse(configMap.data['baton.yaml']);
}

/** The baton container of the Deployment. */
export function deployedContainer(): Record<string, any> {
  const deployment = manifest('deployment.yaml').find((d) => d.kind === 'Deployment')!;
  return deployment.spec.template.spec.containers[0];
}

/** Whether a request is one the rule grants (verb, group, resource and, when named, the name). */
function grants(rule: RbacRule, verb: string, request: RequestRecord): boolean {
  return (
    request.verb === verb &&
    (rule.apiGroups ?? ['*']).some((g) => g === '*' || g === request.apiGroup) &&
    rule.resources.includes(request.resource) &&
    (!rule.resourceNames?.length || rule.resourceNames.includes(request.authorizedName))
  );
}

/** Each verb of each rule that no request used, as `verb resource [names]`. */
export function unusedGrants(rules: RbacRule[], requests: RequestRecord[]): string[] {
  const unused: string[] = [];
  for (const rule of rules) {
    for (const verb of rule.verbs) {
      if (!requests.some((request) => grants(rule, verb, request))) {
        unused.push(`${verb} ${rule.resources.join(',')}${rule.resourceNames ? ` [${rule.resourceNames.join(',')}]` : ''}`);
      }
    }
  }
  return unused;
}
