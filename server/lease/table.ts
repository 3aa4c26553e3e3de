// The replicated lease state: which leases exist, their granted TTL, and
// which keys are attached to each. It changes only by applying log entries
// (grant, revoke, puts and deletes), so every member holds the same table.
// It keeps no time: when a lease expires is the leader's business
// (server/lease/expiry.ts), which proposes a revoke.
import { randomFillSync } from 'node:crypto';
import { StoredLease } from '../../proto/gen/cairnpb/internal.js';
import { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import type { LeaseLookup } from '../apply/applier.js';
import { LeaseNotFoundError } from '../apply/errors.js';
import { encodeMessage } from '../codec.js';
import type { Backend } from '../mvcc/backend.js';
import type { MvccStore, WriteTxn } from '../mvcc/store.js';
import { LeaseExistsError, LeaseTtlTooLargeError } from './errors.js';

/** etcd's MaxLeaseTTL: 9,000,000,000 seconds. */
export const leaseTtlSecondsMax = 9_000_000_000n;

export interface Lease {
  readonly id: bigint;
  /** Granted TTL after the minimum clamp. */
  readonly ttlSeconds: bigint;
  readonly keys: Set<string>;
}

export class LeaseTable implements LeaseLookup {
  private readonly leases = new Map<bigint, Lease>();
  /** key (latin1) → the lease it is attached to. */
  private readonly keyLease = new Map<string, bigint>();

  constructor(private readonly backend: Backend, private readonly minTtlSeconds: bigint) {}

  /** Loads leases from the backend and re-attaches the live keys that carry one. */
  restore(store: MvccStore): void {
    this.leases.clear();
    this.keyLease.clear();
    for (const bytes of this.backend.leases()) {
      const stored = StoredLease.decode(bytes);
      this.leases.set(stored.ID, { id: stored.ID, ttlSeconds: stored.TTL, keys: new Set() });
    }
    const { kvs } = store.range({ start: '\0', end: '' });
    for (const kv of kvs) if (kv.lease !== 0n) this.attach(kv.key.toString('latin1'), kv.lease);
  }

  exists(id: bigint): boolean {
    return this.leases.has(id);
  }

  get(id: bigint): Lease | undefined {
    return this.leases.get(id);
  }

  /** The keys attached to lease `id` (latin1), none when it does not exist. */
  keysOf(id: bigint): Iterable<string> {
    return this.leases.get(id)?.keys ?? [];
  }

  get size(): number {
    return this.leases.size;
  }

  ids(): bigint[] {
    return [...this.leases.keys()];
  }

  /** Applies a grant; the TTL is raised to the minimum as etcd does. */
  grant(id: bigint, ttlSeconds: bigint): Lease {
    if (id === 0n) throw new LeaseNotFoundError();
    if (ttlSeconds > leaseTtlSecondsMax) throw new LeaseTtlTooLargeError();
    if (this.leases.has(id)) throw new LeaseExistsError();
    const lease: Lease = { id, ttlSeconds: ttlSeconds < this.minTtlSeconds ? this.minTtlSeconds : ttlSeconds, keys: new Set() };
    this.leases.set(id, lease);
    this.backend.putLease(idBytes(id), encodeMessage(StoredLease, { ID: id, TTL: lease.ttlSeconds }));
    return lease;
  }

  /** Applies a revoke: deletes every attached key (in key order) in `txn`, then the lease. */
  revoke(id: bigint, txn: WriteTxn): void {
    const lease = this.leases.get(id);
    if (lease === undefined) throw new LeaseNotFoundError();
    for (const key of [...lease.keys].sort()) txn.deleteRange({ start: key });
    this.leases.delete(id);
    this.backend.removeLease(idBytes(id));
  }

  /** Follows the effects of a write on key attachments (called for every event a write produced). */
  track(type: 'put' | 'delete', kv: KeyValue): void {
    const key = kv.key.toString('latin1');
    if (type === 'delete') {
      this.detach(key);
      return;
    }
    if (this.keyLease.get(key) === kv.lease) return;
    this.detach(key);
    if (kv.lease !== 0n) this.attach(key, kv.lease);
  }

  private attach(key: string, id: bigint): void {
    const lease = this.leases.get(id);
    if (lease === undefined) return; // checked before the write; absent only for data written before the lease table existed
    lease.keys.add(key);
    this.keyLease.set(key, id);
  }

  private detach(key: string): void {
    const id = this.keyLease.get(key);
    if (id === undefined) return;
    this.keyLease.delete(key);
    this.leases.get(id)?.keys.delete(key);
  }
}

/**
 * Random bytes for lease IDs, drawn 4 KiB at a time: one call into the
 * crypto library per 512 grants instead of one per grant (randomBytes(8) per
 * grant was ~5 % of a grant's CPU).
 */
const idRandomness = Buffer.alloc(4096);
let idRandomnessUsed = idRandomness.length;

/** A fresh positive 63-bit lease ID, chosen before a grant is proposed so applying it stays deterministic. */
export function newLeaseId(table: LeaseTable): bigint {
  for (;;) {
    if (idRandomnessUsed === idRandomness.length) {
      randomFillSync(idRandomness);
      idRandomnessUsed = 0;
    }
    const id = idRandomness.readBigInt64BE(idRandomnessUsed) & 0x7fff_ffff_ffff_ffffn;
    idRandomnessUsed += 8;
    if (id !== 0n && !table.exists(id)) return id;
  }
}

function idBytes(id: bigint): Buffer {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeBigInt64BE(id);
  return bytes;
}
