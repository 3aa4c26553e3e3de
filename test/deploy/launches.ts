// Each member's process as a deployment file starts it: the program and its
// arguments, and the environment it gets. Nothing here is retyped from the
// files: the Dockerfile gives the image's ENTRYPOINT, CMD and ENV; compose,
// the StatefulSet and the systemd unit add what they add, with the rules of
// the tool that reads them (compose's environment over the image's; the
// kubelet's env resolution; systemd's EnvironmentFile over Environment=).
import { deployPaths, readText, readYaml, kubernetesObjects } from './deploy-files.js';
import { imageConfig, parseDockerfile, type ImageConfig, type Stage } from './dockerfile.js';
import { cairnContainer, resolveEnv, statefulSetOf } from './kubernetes.js';
import { environmentAssignments, environmentFile, expandSpecifiers, parseUnit, unitValue, unitValues } from './systemd-unit.js';

export interface MemberLaunch {
  /** The member's service, pod or host name. */
  member: string;
  /** argv[0] is the program. */
  argv: string[];
  env: Record<string, string>;
}

export function dockerStages(): Stage[] {
  return parseDockerfile(readText(deployPaths.dockerfile));
}

/** The image the Dockerfile builds: its last stage. */
export function runtimeImage(): ImageConfig {
  const last = dockerStages().at(-1);
  if (last === undefined) throw new Error('the Dockerfile has no stage');
  return imageConfig(last);
}

/** A compose service as far as these tests read it. */
export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: string[];
  volumes?: string[];
  healthcheck?: Record<string, unknown>;
  init?: boolean;
  stop_grace_period?: string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function composeFile(): ComposeFile {
  return readYaml(deployPaths.compose) as ComposeFile;
}

/** compose's environment: a map or a list of KEY=value; compose passes every value as a string. */
export function composeEnvironment(service: ComposeService): Record<string, string> {
  const environment = service.environment ?? {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(environment.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, value === null ? '' : String(value)]));
}

export function composeLaunches(): MemberLaunch[] {
  const image = runtimeImage();
  return Object.entries(composeFile().services).sort(([a], [b]) => a.localeCompare(b)).map(([name, service]) => ({
    member: name,
    argv: [...(service.entrypoint ?? image.entrypoint), ...(service.command ?? (service.entrypoint === undefined ? image.cmd : []))],
    env: { ...image.env, ...composeEnvironment(service) },
  }));
}

/** Each pod of the StatefulSet in `namespace`: pods are named <statefulset>-<ordinal>. */
export function kubernetesLaunches(namespace: string): MemberLaunch[] {
  const image = runtimeImage();
  const statefulSet = statefulSetOf(kubernetesObjects());
  const container = cairnContainer(statefulSet);
  const replicas = statefulSet.spec?.replicas as number;
  // The kubelet's rule: command replaces ENTRYPOINT (and drops CMD), args replaces CMD.
  const argv = [...(container.command ?? image.entrypoint), ...(container.args ?? (container.command === undefined ? image.cmd : []))];
  return Array.from({ length: replicas }, (_, ordinal) => {
    const pod = `${statefulSet.metadata.name}-${ordinal}`;
    return { member: pod, argv, env: { ...image.env, ...resolveEnv(container.env ?? [], { 'metadata.name': pod, 'metadata.namespace': namespace }) } };
  });
}

/** The path the unit reads its EnvironmentFile from; deploy/systemd/cairn.env is what is installed there. */
export function unitEnvironmentFilePath(): string {
  return unitValue(parseUnit(readText(deployPaths.systemdUnit)), 'Service', 'EnvironmentFile').replace(/^-/, '');
}

/**
 * One member per host named in the environment file's ETCD_INITIAL_CLUSTER,
 * each on a host of that name (%H).
 */
export function systemdLaunches(): MemberLaunch[] {
  const unit = parseUnit(readText(deployPaths.systemdUnit));
  const file = environmentFile(readText(deployPaths.systemdEnvironment));
  const hosts = (file.ETCD_INITIAL_CLUSTER ?? '').split(',').map((entry) => new URL(entry.slice(entry.indexOf('=') + 1)).hostname);
  if (hosts.length === 0) throw new Error('cairn.env names no member in ETCD_INITIAL_CLUSTER');
  const execStart = unitValue(unit, 'Service', 'ExecStart');
  if (/["'\\]/.test(execStart)) throw new Error(`ExecStart=${execStart}: quoting is not used in cairn's unit`);
  return hosts.map((host) => ({
    member: host,
    argv: expandSpecifiers(execStart, host).split(/\s+/),
    env: { ...environmentAssignments(unitValues(unit, 'Service', 'Environment').map((value) => expandSpecifiers(value, host))), ...file },
  }));
}

/** A flag's value as the server reads it: --flag=value or --flag value on the command line, else ETCD_FLAG. */
export function flagValue(launch: MemberLaunch, flag: string): string | undefined {
  const args = launch.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${flag}`) return args[i + 1];
    if (args[i]?.startsWith(`--${flag}=`)) return args[i]?.slice(flag.length + 3);
  }
  return launch.env[`ETCD_${flag.toUpperCase().replaceAll('-', '_')}`];
}
