// The parts of Kubernetes objects these tests read, typed, and the one rule
// of the kubelet they need: how a container's environment is resolved
// (fieldRef from the pod, then $(VAR) references to variables defined above).
import { at, objectOf, type KubernetesObject } from './deploy-files.js';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort: number }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  resources?: Record<string, unknown>;
  securityContext?: Record<string, unknown>;
}

export function statefulSetOf(objects: readonly KubernetesObject[]): KubernetesObject {
  return objectOf(objects, 'StatefulSet');
}

/** The cairn container of a StatefulSet's pod template. */
export function cairnContainer(statefulSet: KubernetesObject): Container {
  const containers = at(statefulSet, 'spec.template.spec.containers') as Container[] | undefined;
  const container = containers?.find((candidate) => candidate.name === 'cairn');
  if (container === undefined) throw new Error(`StatefulSet ${statefulSet.metadata.name} has no container named cairn`);
  return container;
}

/** What a pod's fieldRefs read: its name and namespace. */
export interface PodFields {
  'metadata.name': string;
  'metadata.namespace': string;
}

/**
 * The container's variables as the kubelet sets them: a fieldRef reads the
 * pod, and $(NAME) in a value is replaced by the value of a variable defined
 * earlier in the list ($$ escapes a $). A reference to no such variable is
 * left as written by the kubelet; here it fails, as it would be a mistake.
 */
export function resolveEnv(env: readonly EnvVar[], pod: PodFields): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const variable of env) {
    const fieldPath = variable.valueFrom?.fieldRef?.fieldPath;
    if (fieldPath !== undefined) {
      if (!(fieldPath in pod)) throw new Error(`${variable.name}: fieldRef ${fieldPath} is not one these tests resolve`);
      resolved[variable.name] = pod[fieldPath as keyof PodFields];
      continue;
    }
    if (variable.value === undefined) throw new Error(`${variable.name}: neither value nor fieldRef`);
    resolved[variable.name] = variable.value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string | undefined) => {
      if (name === undefined) return '$';
      const value = resolved[name];
      if (value === undefined) throw new Error(`${variable.name}: $(${name}) names no variable defined before it`);
      return value;
    });
  }
  return resolved;
}
