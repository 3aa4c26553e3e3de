// A systemd unit file and an environment file, read as systemd reads the
// parts these tests use (systemd.syntax(7), systemd.exec(7)): sections of
// `Key=value` lines, a key given twice keeps both values in order;
// Environment= holds space-separated assignments, double-quoted when a value
// has spaces; an EnvironmentFile holds KEY=value lines, `#` and `;` comments,
// and its assignments win over Environment='s. Specifiers: %H (the host
// name) and %% only; any other is refused rather than guessed.

export type UnitFile = Map<string, Array<[key: string, value: string]>>;

export function parseUnit(text: string): UnitFile {
  const sections: UnitFile = new Map();
  let current: Array<[string, string]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[([A-Za-z]+)\]$/.exec(line);
    if (section !== null) {
      current = [];
      sections.set(section[1] as string, current);
      continue;
    }
    if (line.endsWith('\\')) throw new Error(`${line}: continued lines are not used in cairn's unit`);
    const equals = line.indexOf('=');
    if (equals <= 0 || current === undefined) throw new Error(`${line}: not Key=value inside a section`);
    current.push([line.slice(0, equals).trim(), line.slice(equals + 1).trim()]);
  }
  return sections;
}

/** Every value of `key` in `section`, in order. */
export function unitValues(unit: UnitFile, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([name]) => name === key).map(([, value]) => value);
}

/** The single value of `key` in `section`; throws when it is missing or repeated. */
export function unitValue(unit: UnitFile, section: string, key: string): string {
  const values = unitValues(unit, section, key);
  if (values.length !== 1) throw new Error(`[${section}] ${key}= appears ${values.length} times, expected once`);
  return values[0] as string;
}

/** The assignments of Environment= lines, in order. */
export function environmentAssignments(values: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const value of values) {
    for (const match of value.matchAll(/"([^"]*)"|(\S+)/g)) {
      const assignment = match[1] ?? (match[2] as string);
      const equals = assignment.indexOf('=');
      if (equals <= 0) throw new Error(`Environment=${value}: "${assignment}" is not KEY=value`);
      env[assignment.slice(0, equals)] = assignment.slice(equals + 1);
    }
  }
  return env;
}

/** The assignments of an EnvironmentFile. */
export function environmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match === null) throw new Error(`${line}: not KEY=value`);
    const value = match[2] as string;
    env[match[1] as string] = /^"(.*)"$/.exec(value)?.[1] ?? value;
  }
  return env;
}

/** `text` with %H replaced by `hostName` and %% by %. */
export function expandSpecifiers(text: string, hostName: string): string {
  return text.replace(/%(.)/g, (whole, specifier: string) => {
    if (specifier === 'H') return hostName;
    if (specifier === '%') return '%';
    throw new Error(`${text}: specifier ${whole} is not one these tests expand`);
  });
}
