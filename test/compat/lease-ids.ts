// Normalisation for lease commands: two servers choose different lease IDs,
// and a remaining TTL is a reading of a clock. Everything else etcdctl prints
// about a lease — granted TTL, keys, errors, revisions — is compared exactly.
//
// - A lease ID is replaced by a name given in order of first sight on that
//   server (`<lease 1>`, `<lease 2>`, ...), in hex (`lease 2040a20b0e513b05
//   granted`, `lk/2040a20b0e513b05`) and in decimal JSON (`"ID":232403...`),
//   so "the same lease" still has to be the same lease on both sides.
// - The attached keys of `lease timetolive --keys` are sorted: etcd prints
//   them in Go map order, which is random.
// - A remaining TTL (`remaining(9s)`, `"ttl":9`) is taken out of the text and
//   compared separately: it may differ from etcd's by one second.
// - The header fields `lease` commands print flat at the top level of their
//   JSON (cluster_id, member_id, raft_term) are dropped, as normalise.ts does
//   for a nested header.
import { expect } from 'chai';
import type { EtcdctlResult } from '../harness/etcdctl.js';
import { normaliseRun, type NormalisedRun } from './normalise.js';

/** How far a remaining TTL on cairn may be from etcd's (a second boundary may fall between the two reads). */
export const remainingTtlToleranceSeconds = 1;

const flatHeaderFields = ['cluster_id', 'member_id', 'raft_term'];

/** Names for the lease IDs of one server, in order of first sight. */
export class LeaseNames {
  private readonly names = new Map<bigint, string>();

  name(id: bigint): string {
    let name = this.names.get(id);
    if (name === undefined) {
      name = `<lease ${this.names.size + 1}>`;
      this.names.set(id, name);
    }
    return name;
  }

  /**
   * Replaces every lease ID in etcdctl's output: 16-digit hex tokens (etcdctl
   * prints IDs with %016x) and the decimal "ID", "id" and "lease" JSON fields.
   * (Negative IDs, which etcd accepts from a client, print differently and are not used by the tests.)
   */
  rewrite(text: string): string {
    return text
      // Header IDs are dropped later; keep a decimal member ID from reading as a 16-digit hex lease ID.
      .replace(/"(cluster_id|member_id)":\d+/g, '"$1":0')
      .replace(/(?<![0-9a-zA-Z])[0-9a-f]{16}(?![0-9a-zA-Z])/g, (hex) => this.name(BigInt(`0x${hex}`)))
      .replace(/"(ID|id|lease)":(-?\d+)/g, (_, field: string, decimal: string) => `"${field}":"${this.name(BigInt(decimal))}"`);
  }

  /**
   * Names the lease in keys `<prefix><lease id in hex>`, as `etcdctl lock`
   * and `elect` (concurrency.Mutex, Election) make them: %x, not zero-padded.
   */
  rewriteKeys(text: string, prefix: string): string {
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return text.replace(new RegExp(`${escaped}([0-9a-f]{1,16})(?![0-9a-zA-Z])`, 'g'), (_, hex: string) => `${prefix}${this.name(BigInt(`0x${hex}`))}`);
  }
}

/** `lease <hex> granted with TTL(60s)` → the lease ID. */
export function grantedLeaseId(stdout: string): bigint {
  const match = /^lease ([0-9a-f]{16}) granted with TTL\(/.exec(stdout);
  if (match === null) throw new Error(`not a lease grant: ${stdout}`);
  return BigInt(`0x${match[1]}`);
}

/** etcdctl's output about leases, with IDs named and remaining TTLs taken out. */
export interface LeaseRun extends NormalisedRun {
  /** Every remaining TTL printed, in order, in seconds. */
  remaining: number[];
}

export function normaliseLeaseRun(result: EtcdctlResult, endpoint: string, args: readonly string[], names: LeaseNames): LeaseRun {
  const rewritten = { code: result.code, stdout: names.rewrite(result.stdout), stderr: names.rewrite(result.stderr) };
  const run = normaliseRun(rewritten, endpoint, args);
  const remaining: number[] = [];
  const stdout = run.stdout.map((line) => (typeof line === 'string' ? simpleLine(line, remaining) : jsonLine(line, remaining)));
  return { ...run, stdout, remaining };
}

function simpleLine(line: string, remaining: number[]): string {
  return line
    .replace(/remaining\((-?\d+)s\)/, (_, seconds: string) => {
      remaining.push(Number(seconds));
      return 'remaining(<ttl>)';
    })
    .replace(/attached keys\(\[(.*)\]\)/, (_, keys: string) => `attached keys([${keys.split(' ').sort().join(' ')}])`);
}

function jsonLine(line: unknown, remaining: number[]): unknown {
  if (line === null || typeof line !== 'object' || Array.isArray(line)) return line;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(line as Record<string, unknown>)) {
    if (flatHeaderFields.includes(name)) continue;
    if (name === 'keys' && Array.isArray(field)) {
      out[name] = [...field].sort();
    } else if (name === 'ttl' && typeof field === 'number' && 'granted-ttl' in line) {
      // `lease timetolive -w json`: "ttl" is the remaining TTL ("granted-ttl" the granted one).
      remaining.push(field);
      out[name] = '<ttl>';
    } else {
      out[name] = field;
    }
  }
  return out;
}

/**
 * Asserts that cairn printed what etcd printed, remaining TTLs within
 * remainingTtlToleranceSeconds of etcd's (an expired lease's -1 exactly).
 */
export function expectSameLeaseRuns(what: string, etcd: readonly LeaseRun[], cairn: readonly LeaseRun[]): void {
  const strip = (runs: readonly LeaseRun[]) => runs.map(({ remaining: _, ...rest }) => rest);
  expect(strip(cairn), `${what}: cairn (actual) vs etcd (expected)`).to.deep.equal(strip(etcd));
  const etcdTtls = etcd.flatMap((run) => run.remaining);
  const cairnTtls = cairn.flatMap((run) => run.remaining);
  expect(cairnTtls.length, `${what}: number of remaining TTLs printed`).to.equal(etcdTtls.length);
  etcdTtls.forEach((expected, index) => {
    const actual = cairnTtls[index] as number;
    const close = expected > 0 && actual > 0 ? Math.abs(actual - expected) <= remainingTtlToleranceSeconds : actual === expected;
    expect(close, `${what}: remaining TTL ${index}: cairn ${actual} s vs etcd ${expected} s`).to.equal(true);
  });
}
