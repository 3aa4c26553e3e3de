// A Dockerfile read as the builder reads the instructions these tests need:
// stages (FROM … AS name), ENV, WORKDIR, COPY, USER, EXPOSE, VOLUME,
// HEALTHCHECK, STOPSIGNAL, ENTRYPOINT and CMD. Lines continue after a
// backslash; `#` starts a comment line. Exec forms (JSON arrays) are kept as
// argument lists; a shell form is refused, because the image's files use
// none and a shell form would run through /bin/sh -c in the container.

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  text: string;
}

export interface Stage {
  /** The image it starts from (FROM). */
  base: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  destination: string;
}

export interface HealthCheck {
  options: Record<string, string>;
  /** The command, exec form (after CMD). */
  argv: string[];
}

/** What the runtime stage's image holds and runs, as a container engine reads it. */
export interface ImageConfig {
  env: Record<string, string>;
  workdir: string;
  user: string | undefined;
  exposed: string[];
  volumes: string[];
  entrypoint: string[];
  cmd: string[];
  stopSignal: string | undefined;
  healthCheck: HealthCheck | undefined;
  /** COPY [--from=<stage>] <source>... <destination>, the destination resolved against WORKDIR. */
  copies: Copy[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions(text)) {
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.text);
      if (match === null) throw new Error(`FROM ${instruction.text}: not "image [AS name]"`);
      stages.push({ base: match[1] as string, name: match[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) throw new Error(`${instruction.keyword} before any FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    // A comment line inside a continued instruction is dropped, as the builder does.
    if (pending !== '' && line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    const space = whole.search(/\s/);
    out.push({ keyword: whole.slice(0, space).toUpperCase(), text: whole.slice(space).trim() });
  }
  if (pending !== '') throw new Error('the Dockerfile ends inside a continued line');
  return out;
}

/** The image a stage builds: its ENV, WORKDIR, USER, … in order, later instructions winning. */
export function imageConfig(stage: Stage): ImageConfig {
  const config: ImageConfig = {
    env: {}, workdir: '/', user: undefined, exposed: [], volumes: [], entrypoint: [], cmd: [], stopSignal: undefined, healthCheck: undefined, copies: [],
  };
  for (const { keyword, text } of stage.instructions) {
    if (keyword === 'ENV') Object.assign(config.env, envPairs(text));
    else if (keyword === 'WORKDIR') config.workdir = inside(config.workdir, text);
    else if (keyword === 'USER') config.user = text;
    else if (keyword === 'EXPOSE') config.exposed.push(...text.split(/\s+/));
    else if (keyword === 'VOLUME') config.volumes.push(...(text.startsWith('[') ? execForm(text) : text.split(/\s+/)));
    else if (keyword === 'ENTRYPOINT') config.entrypoint = execForm(text);
    else if (keyword === 'CMD') config.cmd = execForm(text);
    else if (keyword === 'STOPSIGNAL') config.stopSignal = text;
    else if (keyword === 'HEALTHCHECK') config.healthCheck = healthCheck(text);
    else if (keyword === 'COPY') config.copies.push(copy(text, config.workdir));
  }
  return config;
}

/** ENV KEY=value KEY2=value2 (values without spaces, or double-quoted). The legacy `ENV KEY value` form is refused. */
function envPairs(text: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  const pattern = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)\s*/gy;
  let consumed = 0;
  for (const match of text.matchAll(pattern)) {
    const value = match[2] as string;
    pairs[match[1] as string] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
    consumed = (match.index ?? 0) + match[0].length;
  }
  if (consumed !== text.length) throw new Error(`ENV ${text}: not KEY=value pairs`);
  return pairs;
}

function execForm(text: string): string[] {
  if (!text.startsWith('[')) throw new Error(`${text}: a shell form; the image uses exec forms (JSON arrays) only`);
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new Error(`${text}: not a JSON array of strings`);
  return value;
}

function healthCheck(text: string): HealthCheck | undefined {
  if (text === 'NONE') return undefined;
  const options: Record<string, string> = {};
  let rest = text;
  for (;;) {
    const match = /^--([a-z-]+)=(\S+)\s+/.exec(rest);
    if (match === null) break;
    options[match[1] as string] = match[2] as string;
    rest = rest.slice(match[0].length);
  }
  if (!rest.startsWith('CMD ')) throw new Error(`HEALTHCHECK ${text}: no CMD`);
  return { options, argv: execForm(rest.slice('CMD '.length).trim()) };
}

function copy(text: string, workdir: string): Copy {
  const words = text.split(/\s+/);
  const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((word) => !word.startsWith('--'));
  const destination = paths.pop();
  if (destination === undefined || paths.length === 0) throw new Error(`COPY ${text}: sources and a destination expected`);
  return { from, sources: paths, destination: inside(workdir, destination) };
}

/** `path` resolved against the directory `workdir` (both absolute container paths, `.` the directory itself). */
function inside(workdir: string, path: string): string {
  if (path.startsWith('/')) return path;
  const joined = `${workdir.replace(/\/$/, '')}/${path.replace(/^\.\/?/, '')}`;
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

/** Docker's duration syntax in HEALTHCHECK options (10s, 1m30s, 500ms) in milliseconds. */
export function durationMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text;
  while (rest !== '') {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (match === null) throw new Error(`${text}: not a duration`);
    total += Number(match[1]) * (units[match[2] as string] as number);
    rest = rest.slice(match[0].length);
  }
  return total;
}
