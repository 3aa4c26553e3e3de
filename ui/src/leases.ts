// The lease calls the console makes (through the gateway, as any client).
import { fromBase64 } from './bytes.js';
import { call } from './gateway.js';

export interface LeaseDetails {
  readonly id: bigint;
  /** Seconds left as of the answer; -1: the lease is gone (expired or revoked). */
  readonly ttlSeconds: number;
  readonly grantedTtlSeconds: number;
  readonly keys: readonly Uint8Array[];
}

export async function leaseIds(): Promise<bigint[]> {
  const answer = await call<{ leases?: Array<{ ID?: string }> }>('lease/leases', {});
  return (answer.leases ?? []).map((lease) => BigInt(lease.ID ?? '0'));
}

export async function timeToLive(id: bigint): Promise<LeaseDetails> {
  const answer = await call<{ ID?: string; TTL?: string; grantedTTL?: string; keys?: string[] }>('lease/timetolive', { ID: String(id), keys: true });
  return {
    id,
    // The gateway leaves out fields at their default: no TTL is 0 (under a second left); a lease that is gone says -1.
    ttlSeconds: Number(answer.TTL ?? '0'),
    grantedTtlSeconds: Number(answer.grantedTTL ?? '0'),
    keys: (answer.keys ?? []).map((key) => fromBase64(key)),
  };
}

export async function revoke(id: bigint): Promise<void> {
  await call('lease/revoke', { ID: String(id) });
}

/** A lease ID as etcdctl prints it: 16 hex digits. */
export function leaseHex(id: bigint): string {
  return id.toString(16).padStart(16, '0');
}
