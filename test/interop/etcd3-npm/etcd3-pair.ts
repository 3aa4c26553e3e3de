// The npm `etcd3` client (v1.1.2) against real etcd and against cairn in the
// same run: each scenario gets one `new Etcd3({hosts})` per side (closed at
// its end), runs on both servers at once, and returns plain data; the test
// passes when cairn's data equals etcd's.
//
// What the client returns is normalised only where two servers differ by
// nature, and the same way on both sides:
// - revisions (header, create/mod revision, compact revision) are written
//   relative to the revision read at the start of the scenario on that side
//   (`rev+3`), so that earlier scenarios in the same describe block do not
//   matter; a revision 0 ("none") stays 0;
// - lease IDs are chosen by the server: each is named in order of first sight
//   on its side (`<lease 1>`), in the `lease` and `ID` fields and wherever the
//   decimal ID appears in a string (election keys, error messages), so "the
//   same lease" still has to be the same lease on both sides;
// - the response header's cluster_id, member_id and raft_term are dropped
//   (normalise.ts does the same for etcdctl);
// - Buffers become UTF-8 strings.
// An error is compared as the class the package throws (constructor name:
// the package sets no `name`) and its message.
//
// COMPAT_BOTH_ETCD=1 runs etcd on both sides (as compatPair does), which
// checks the scenarios and the normalisation themselves; ETCD3_NPM_SHOW=1
// prints what each scenario returned on both sides.
import { expect } from 'chai';
import { Etcd3, type IOptions } from 'etcd3';
import { compatPair, type CompatPair, type CompatPairOptions, type SideName } from '../../compat/pair.js';
import type { ServerHandle, ServerTls } from '../../harness/launcher.js';
import type { TlsFiles } from '../../harness/tls-fixture.js';
import { tlsPair } from '../../compat/tls-pair.js';

/** A scenario's view of one server: its client and the normaliser of this scenario on this side. */
export interface Etcd3Side {
  readonly name: SideName;
  readonly server: ServerHandle;
  /** The scenario's client: `new Etcd3({hosts: 'http://' + endpoint})`, closed after the scenario. */
  readonly client: Etcd3;
  /**
   * Another client for the same server (closed with the scenario's), for a second session or a
   * second campaigner; `options` replace the pair's defaults (TLS pair: https and its credentials).
   */
  newClient(options?: Partial<IOptions>): Etcd3;
  /** The header revision read at the start of the scenario. */
  readonly base: bigint;
  readonly n: Normaliser;
}

/** Runs scenarios through the package on both servers of a pair. */
export interface Etcd3Scenarios {
  /**
   * Runs `scenario` on both sides at once; asserts cairn's result deep-equals etcd's; returns etcd's.
   * `options` are the scenario client's (credentials, once auth is enabled).
   */
  same<T>(what: string, scenario: (side: Etcd3Side) => Promise<T>, options?: Partial<IOptions>): Promise<T>;
  /** Runs `scenario` on both sides; returns [etcd's, cairn's] and asserts nothing. */
  both<T>(scenario: (side: Etcd3Side) => Promise<T>, options?: Partial<IOptions>): Promise<[T, T]>;
}

export interface Etcd3Pair extends Etcd3Scenarios {
  readonly pair: CompatPair;
}

/** An `etcd3` client of `server` over plaintext (every option may be overridden). */
export function clientOf(server: ServerHandle, options: Partial<IOptions> = {}): Etcd3 {
  return new Etcd3({ hosts: `http://${server.endpoint}`, ...options });
}

/** The current revision of the server behind `client` (the header revision of a Range). */
export async function currentRevision(client: Etcd3): Promise<bigint> {
  const response = await client.get('\0etcd3-npm/base').exec();
  return BigInt(response.header.revision);
}

/** Starts one etcd and one cairn for the describe block (compatPair), for scenarios through the `etcd3` package. */
export function etcd3Pair(options: CompatPairOptions = {}): Etcd3Pair {
  const pair = compatPair(options);
  return { pair, ...scenarios(() => ({ etcd: pair.etcd, cairn: pair.cairn }), () => ({})) };
}

export interface Etcd3TlsPair extends Etcd3Scenarios {
  /** The certificates the servers were started with (made for this run). */
  files(): TlsFiles;
  readonly etcd: ServerHandle;
  readonly cairn: ServerHandle;
}

/**
 * Starts one etcd and one cairn with client TLS `tls(files)` for the describe
 * block (test/compat/tls-pair.ts), with certificates made for the run;
 * scenario clients default to `https://` and `credentials(files)`.
 */
export function etcd3TlsPair(tls: (files: TlsFiles) => ServerTls, credentials: (files: TlsFiles) => IOptions['credentials']): Etcd3TlsPair {
  const pair = tlsPair(tls);
  return {
    files: pair.files,
    get etcd() {
      return pair.servers().etcd;
    },
    get cairn() {
      return pair.servers().cairn;
    },
    ...scenarios(pair.servers, (server) => ({ hosts: `https://${server.endpoint}`, credentials: credentials(pair.files()) })),
  };
}

function scenarios(servers: () => { etcd: ServerHandle; cairn: ServerHandle }, defaults: (server: ServerHandle) => Partial<IOptions>): Etcd3Scenarios {
  const run = async <T>(name: SideName, server: ServerHandle, scenario: (side: Etcd3Side) => Promise<T>, options: Partial<IOptions> = {}): Promise<T> => {
    const clients: Etcd3[] = [];
    const newClient = (extra: Partial<IOptions> = {}) => {
      const client = clientOf(server, { ...defaults(server), ...extra });
      clients.push(client);
      return client;
    };
    try {
      const client = newClient(options);
      const base = await currentRevision(client);
      return await scenario({ name, server, client, newClient, base, n: new Normaliser(base) });
    } finally {
      for (const client of clients) client.close();
    }
  };
  const both = <T>(scenario: (side: Etcd3Side) => Promise<T>, options?: Partial<IOptions>): Promise<[T, T]> => {
    const { etcd, cairn } = servers();
    return Promise.all([run('etcd', etcd, scenario, options), run('cairn', cairn, scenario, options)]);
  };
  return {
    both,
    async same(what, scenario, options) {
      const [etcd, cairn] = await both(scenario, options);
      if (process.env.ETCD3_NPM_SHOW === '1') console.log(`${what}:`, JSON.stringify({ etcd, cairn }, null, 1));
      expect(cairn, `${what}: cairn (actual) vs etcd (expected)`).to.deep.equal(etcd);
      return etcd;
    },
  };
}

/** Field names whose values are revisions (etcd3 decodes with keepCase and longs as decimal strings). */
const revisionFields = new Set(['revision', 'create_revision', 'mod_revision', 'compact_revision', 'min_mod_revision',
  'max_mod_revision', 'min_create_revision', 'max_create_revision', 'start_revision']);
/** Field names whose values are lease IDs. */
const leaseFields = new Set(['lease', 'ID']);
/** Header fields that name a member or a term, which differ between any two clusters. */
const headerFieldsDropped = new Set(['cluster_id', 'member_id', 'raft_term']);

/** Revisions relative to one base, lease IDs named in order of first sight: one per scenario and side. */
export class Normaliser {
  private readonly leases = new Map<string, string>();

  constructor(readonly base: bigint) {}

  /** A revision as `rev+N` relative to the scenario's base (0, "no revision", stays 0). */
  rev(revision: string | number | bigint | null | undefined): string | 0 | null {
    if (revision === null || revision === undefined) return null;
    const value = BigInt(revision);
    if (value === 0n) return 0;
    const delta = value - this.base;
    return delta >= 0n ? `rev+${delta}` : `rev${delta}`;
  }

  /** The absolute revision `rev+delta`, as the decimal string the package takes. */
  at(delta: number): string {
    return String(this.base + BigInt(delta));
  }

  /** A lease ID as `<lease k>` (k in order of first sight); "0" (no lease) stays "0". */
  lease(id: string | number | bigint): string {
    const key = BigInt(id).toString();
    if (key === '0') return '0';
    let name = this.leases.get(key);
    if (name === undefined) {
      name = `<lease ${this.leases.size + 1}>`;
      this.leases.set(key, name);
    }
    return name;
  }

  /** `text` with every lease ID seen so far (decimal) named. */
  text(text: string): string {
    let out = text;
    // Server-chosen IDs are random 63-bit numbers; a short one (a test's own) is not searched for in text.
    for (const [id, name] of this.leases) if (id.length >= 6) out = out.split(id).join(name);
    return out;
  }

  /** A response (or any value) from the package as plain, comparable data. */
  of(value: unknown): unknown {
    return this.walk(value, undefined);
  }

  private walk(value: unknown, field: string | undefined): unknown {
    if (Buffer.isBuffer(value)) return this.text(value.toString('utf8'));
    if (typeof value === 'bigint') return value.toString();
    if (Array.isArray(value)) return value.map((item) => this.walk(item, undefined));
    if (typeof value === 'string' || typeof value === 'number') {
      if (field !== undefined && revisionFields.has(field)) return this.rev(value);
      if (field !== undefined && leaseFields.has(field)) return this.lease(value);
      return typeof value === 'string' ? this.text(value) : value;
    }
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
      if (item === undefined) continue;
      if (name === 'header' && item !== null && typeof item === 'object') {
        const header: Record<string, unknown> = {};
        for (const [headerName, headerItem] of Object.entries(item as Record<string, unknown>)) {
          if (!headerFieldsDropped.has(headerName)) header[headerName] = this.walk(headerItem, headerName);
        }
        out[name] = header;
      } else {
        out[name] = this.walk(item, name);
      }
    }
    return out;
  }

  /** An error the package threw: its class (constructor name) and message, lease IDs named. */
  error(error: unknown): { error: { class: string; message: string } } {
    if (!(error instanceof Error)) return { error: { class: typeof error, message: String(error) } };
    return { error: { class: error.constructor.name, message: this.text(error.message) } };
  }

  /** What `promise` (a promise or one of the package's builders, which are thenables) settles with: `{ok: normalised value}` or `{error: {class, message}}`. */
  async outcome(promise: unknown): Promise<unknown> {
    try {
      return { ok: this.of(await promise) };
    } catch (error) {
      return this.error(error);
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves when `predicate()` holds (checked every 20 ms); rejects after `timeoutMs`, naming `what`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The first `event` emitted by `emitter` (its arguments), or a rejection after `timeoutMs`. */
export function nextEvent<T extends unknown[]>(emitter: NodeJS.EventEmitter, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    };
    emitter.once(event, listener);
  });
}
