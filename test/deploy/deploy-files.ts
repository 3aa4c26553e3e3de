// The deployment files under deploy/, read as the tools that use them read
// them: YAML documents (Kubernetes manifests, the compose file, the chart's
// values) and plain text (Dockerfile, systemd unit). Every test of deploy/
// reads them through here, so that what runs is what the files say.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { repositoryRoot } from '../harness/sources.js';

export const deployRoot = join(repositoryRoot, 'deploy');

export const deployPaths = {
  dockerfile: join(deployRoot, 'docker', 'Dockerfile'),
  dockerignore: join(repositoryRoot, '.dockerignore'),
  compose: join(deployRoot, 'docker', 'compose.yaml'),
  kubernetes: join(deployRoot, 'kubernetes'),
  chart: join(deployRoot, 'helm', 'cairn'),
  systemdUnit: join(deployRoot, 'systemd', 'cairn.service'),
  systemdEnvironment: join(deployRoot, 'systemd', 'cairn.env'),
  systemdUsers: join(deployRoot, 'systemd', 'cairn.sysusers'),
} as const;

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/**
 * One YAML document as compose reads it: merge keys (`<<: *anchor`) are
 * YAML 1.1's, which compose supports and the `yaml` package takes only when
 * asked. Duplicate keys are an error, as in compose.
 */
export function readYaml(path: string): unknown {
  return parse(readText(path), { merge: true, uniqueKeys: true });
}

/** Every document of a multi-document YAML file (`---`), each checked for errors; empty ones left out. */
export function readYamlDocuments(path: string): KubernetesObject[] {
  const documents = parseAllDocuments(readText(path), { uniqueKeys: true });
  if (!Array.isArray(documents)) throw new Error(`${path}: not a YAML stream`);
  const objects: KubernetesObject[] = [];
  for (const document of documents) {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors.map((error) => error.message).join('; ')}`);
    const value = document.toJS() as KubernetesObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

/** The YAML files of a folder, by name, in name order. */
export function yamlFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.yaml')).sort();
}

/** A Kubernetes object as far as these tests read it; the rest is reached by path. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; namespace?: string };
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}

/** The manifests of deploy/kubernetes (kustomization.yaml aside), every document of every file. */
export function kubernetesObjects(): KubernetesObject[] {
  return yamlFiles(deployPaths.kubernetes)
    .filter((name) => name !== 'kustomization.yaml')
    .flatMap((name) => readYamlDocuments(join(deployPaths.kubernetes, name)));
}

/** The one object of `kind` (and `name`, when several) among `objects`; throws naming what is missing. */
export function objectOf(objects: readonly KubernetesObject[], kind: string, name?: string): KubernetesObject {
  const found = objects.filter((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name === undefined ? '' : ` named ${name}`}, found ${found.length}`);
  return found[0] as KubernetesObject;
}

/**
 * The value at `path` (dotted keys; a number indexes a list) inside `value`,
 * or undefined. `at(statefulSet, 'spec.template.spec.containers.0')`.
 */
export function at(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
