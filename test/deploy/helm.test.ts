// deploy/helm/cairn: the chart renders deploy/kubernetes from its values.
//
// Helm is not a Debian package, so these run everywhere without it:
// Chart.yaml and values.yaml parse; every .Values path a template reads is
// in values.yaml and every value is read; the default values are the
// manifests' (replicas, image, resources, storage, grace period); and every
// template line without a template action appears, in order, in the
// manifest of the same name (a template is its manifest with names and
// values put in).
//
// With helm on PATH (or HELM_BIN): `helm lint --strict`, and `helm template`
// renders exactly the objects of deploy/kubernetes, but for the labels only
// Helm sets (chart, version, managed-by); with --set replicaCount=5,
// --initial-cluster names 5 members.
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { runCommand } from '../harness/command.js';
import { must } from '../harness/must.js';
import { repositoryRoot } from '../harness/sources.js';
import { at, deployPaths, kubernetesObjects, readText, yamlFiles, type KubernetesObject } from './deploy-files.js';
import { cairnContainer, statefulSetOf } from './kubernetes.js';
import { findTool } from './tools.js';

const templatesDir = join(deployPaths.chart, 'templates');
const templateFiles = readdirSync(templatesDir).filter((name) => name.endsWith('.yaml')).sort();
const templatesText = readdirSync(templatesDir).map((name) => readText(join(templatesDir, name))).join('\n');
const values = parse(readText(join(deployPaths.chart, 'values.yaml'))) as Record<string, unknown>;
const chart = parse(readText(join(deployPaths.chart, 'Chart.yaml'))) as Record<string, unknown>;
/** Labels Helm's chart conventions add and plain manifests have no reason to carry. */
const helmOnlyLabels = ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/version'];

/** A manifest's lines that carry YAML: not blank, not a comment. */
function yamlLines(text: string): string[] {
  return text.split('\n').map((line) => line.trimEnd()).filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

describe('deploy/helm/cairn', () => {
  const objects = kubernetesObjects();
  const statefulSet = statefulSetOf(objects);
  const container = cairnContainer(statefulSet);

  it('has a v2 Chart.yaml whose appVersion is the package\'s version', () => {
    const packageJson = JSON.parse(readText(join(repositoryRoot, 'package.json'))) as { version: string };
    expect(chart).to.deep.include({ apiVersion: 'v2', name: 'cairn', type: 'application', appVersion: packageJson.version });
    expect(chart.version).to.match(/^\d+\.\d+\.\d+$/);
  });

  it('reads only values that values.yaml has, and every value it has', () => {
    const read = new Set([...templatesText.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)].map((match) => match[1] as string));
    for (const path of read) expect(at(values, path), `.Values.${path}`).to.not.equal(undefined);
    // resources is read whole (toYaml), so it counts as one value.
    const leaves = (value: unknown, prefix: string): string[] =>
      value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0 && prefix !== 'resources'
        ? Object.entries(value).flatMap(([key, inner]) => leaves(inner, prefix === '' ? key : `${prefix}.${key}`))
        : [prefix];
    for (const leaf of leaves(values, '')) expect([...read].some((path) => path === leaf || leaf.startsWith(`${path}.`)), `${leaf} is read`).to.equal(true);
  });

  it('defaults to the values of deploy/kubernetes', () => {
    const image = values.image as { repository: string; tag: string; pullPolicy: string };
    expect(values.replicaCount).to.equal(statefulSet.spec?.replicas);
    expect(`${image.repository}:${image.tag}`).to.equal(container.image);
    expect(image.pullPolicy).to.equal((container as { imagePullPolicy?: string }).imagePullPolicy);
    expect(values.resources).to.deep.equal(container.resources);
    expect(at(values, 'persistence.size')).to.equal(at(statefulSet, 'spec.volumeClaimTemplates.0.spec.resources.requests.storage'));
    expect(at(values, 'persistence.storageClassName')).to.equal(at(statefulSet, 'spec.volumeClaimTemplates.0.spec.storageClassName') ?? '');
    expect(values.terminationGracePeriodSeconds).to.equal(at(statefulSet, 'spec.template.spec.terminationGracePeriodSeconds'));
  });

  it('has one template per manifest, each the manifest\'s lines in order where it has no template action', () => {
    expect(templateFiles).to.deep.equal(yamlFiles(deployPaths.kubernetes).filter((name) => name !== 'kustomization.yaml'));
    for (const name of templateFiles) {
      const manifest = yamlLines(readText(join(deployPaths.kubernetes, name)));
      let next = 0;
      for (const line of yamlLines(readText(join(templatesDir, name))).filter((text) => !text.includes('{{'))) {
        const found = manifest.indexOf(line, next);
        expect(found, `${name}: "${line.trim()}" is not in deploy/kubernetes/${name} after line ${next}`).to.be.at.least(0);
        next = found + 1;
      }
    }
  });
});

describe('deploy/helm/cairn rendered by helm', function () {
  this.timeout(20_000);
  let helm: string | undefined;

  before(async function () {
    helm = await findTool('helm', ['version'], 'HELM_BIN');
    if (helm === undefined) {
      console.warn('    skipped: helm is not installed (no Debian package; docs/deployment.md says where a helm binary comes from) — set HELM_BIN or put helm on PATH');
      this.skip();
    }
  });

  async function render(...args: string[]): Promise<KubernetesObject[]> {
    const rendered = await runCommand(must(helm, 'helm'), ['template', 'cairn', deployPaths.chart, '--namespace', 'default', ...args]);
    expect(rendered.code, rendered.stderr).to.equal(0);
    return parseAllDocuments(rendered.stdout).map((document) => document.toJS() as KubernetesObject).filter((object) => object !== null);
  }

  it('passes helm lint --strict', async () => {
    const linted = await runCommand(must(helm, 'helm'), ['lint', '--strict', deployPaths.chart]);
    expect(linted.code, linted.stdout + linted.stderr).to.equal(0);
  });

  it('renders exactly the objects of deploy/kubernetes, but for the labels only Helm sets', async () => {
    const rendered = await render();
    for (const object of rendered) {
      for (const labels of [object.metadata.labels, at(object, 'spec.template.metadata.labels') as Record<string, string> | undefined]) {
        for (const label of helmOnlyLabels) delete labels?.[label];
      }
    }
    expect(rendered).to.have.deep.members(kubernetesObjects());
  });

  it('lists one founding member per replica', async () => {
    const [rendered] = (await render('--set', 'replicaCount=5')).filter((object) => object.kind === 'StatefulSet');
    const env = cairnContainer(must(rendered, 'a StatefulSet')).env ?? [];
    const initialCluster = must(env.find((variable) => variable.name === 'ETCD_INITIAL_CLUSTER')?.value, 'ETCD_INITIAL_CLUSTER');
    expect(initialCluster.split(',').map((entry) => entry.split('=')[0])).to.deep.equal(['cairn-0', 'cairn-1', 'cairn-2', 'cairn-3', 'cairn-4']);
  });
});
