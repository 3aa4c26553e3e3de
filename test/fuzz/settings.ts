// How long the fuzzer runs and from which seed, read from the environment
// (npm run fuzz sets it from its flags; see docs/fuzzing.md). The defaults
// keep the whole suite within about a minute of CI time.

export interface FuzzSettings {
  /** Cases per property; undefined: each property's own CI default. */
  runs: number | undefined;
  /** fast-check seed of every property; undefined: a fresh one per property, printed. */
  seed: number | undefined;
  /** fast-check path of a failing case, to replay exactly that case (with its seed). */
  path: string | undefined;
  /** Upper bound on one property's time, shrinking included; undefined: none (runs decide). */
  timeLimitMs: number | undefined;
  /** Calls in one case, at most. */
  callsPerCaseMax: number;
  /** Cases between two rounds of the quick whole-target checks. */
  checkEveryCases: number;
}

/** CI's bound on one property (there are three): generous, the runs usually end well before it. */
const timeLimitSecondsDefault = 25;

function integer(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const parsed = Number(text);
  if (!Number.isSafeInteger(parsed)) throw new Error(`${name} must be an integer, not "${text}"`);
  return parsed;
}

/** FUZZ_TIME_LIMIT_S=0 lifts the limit. */
function timeLimitMs(seconds: number): number | undefined {
  return seconds === 0 ? undefined : seconds * 1000;
}

/** Mocha's timeout for one property: past its time limit, room for the case running then and the report; 0 (none) without a limit. */
export function propertyTimeoutMs(settings: FuzzSettings): number {
  const marginMs = 60_000;
  return settings.timeLimitMs === undefined ? 0 : settings.timeLimitMs + marginMs;
}

export function fuzzSettings(): FuzzSettings {
  return {
    runs: integer('FUZZ_RUNS'),
    seed: integer('FUZZ_SEED'),
    path: process.env.FUZZ_PATH === '' ? undefined : process.env.FUZZ_PATH,
    timeLimitMs: timeLimitMs(integer('FUZZ_TIME_LIMIT_S') ?? timeLimitSecondsDefault),
    callsPerCaseMax: integer('FUZZ_CALLS_PER_CASE') ?? 4,
    checkEveryCases: integer('FUZZ_CHECK_EVERY') ?? 25,
  };
}

/** `settings` with a property's own CI bound (in seconds) when FUZZ_TIME_LIMIT_S does not say (npm run fuzz always says). */
export function withCiTimeLimit(settings: FuzzSettings, seconds: number): FuzzSettings {
  const explicit = process.env.FUZZ_TIME_LIMIT_S;
  return explicit === undefined || explicit === '' ? { ...settings, timeLimitMs: seconds * 1000 } : settings;
}
