// Turns what one server's JSON gateway answered into text that is equal, byte
// for byte, on etcd and on cairn exactly when the two behaved the same. The
// text is rewritten, never parsed and printed again, so field order, spacing
// and escapes are compared as the servers wrote them.
//
// Only what legitimately differs between two servers is rewritten:
// - the header's cluster_id, member_id and raft_term, and the member's own ID
//   wherever it appears (member list, status leader, alarms);
// - the server's client URL and its peer URL (ports differ);
// - lease IDs the server chose, named in order of first sight (`<lease 1>`);
//   the tests give explicit IDs where a lease ID ends up inside a key (locks,
//   elections), so those keys are compared as they are;
// - the token of Authenticate;
// - per step, when asked: fields that depend on the implementation, not on
//   the history of writes (status's version, sizes and raft indexes, Hash's
//   hash); a remaining TTL within two seconds of the granted one; the keys of
//   LeaseTimeToLive, which etcd lists in Go's random map order.
// Revisions, versions, values, counts, errors and HTTP statuses are kept:
// both servers run the same writes in the same order.
import { LeaseNames } from './lease-ids.js';

export interface StepNormalisation {
  /** Fields whose values are the implementation's own (`dbSize`): replaced by `<dbSize>`. */
  implementationFields?: readonly string[];
  /** The granted TTL of a LeaseTimeToLive answer: a remaining TTL up to two seconds below it reads `<remaining>`. */
  grantedTtlSeconds?: number;
  /** Sort the `keys` list of a LeaseTimeToLive answer. */
  sortKeys?: boolean;
  /** A `key` that is this prefix and a lease ID in hex (a lock on a lease the server granted) reads `<prefix><lease N>`. */
  leaseKeyPrefix?: string;
}

/** How far below the granted TTL a remaining TTL may be (the two reads fall in different seconds). */
const remainingTtlSlackSeconds = 2;

export class GatewayNormaliser {
  /** The member's own ID (decimal), learnt from the first response header. */
  memberId: string | undefined;
  private readonly leases = new LeaseNames();

  constructor(private readonly clientUrl: string) {}

  normalise(text: string, step: StepNormalisation = {}): string {
    const member = /"member_id":"(\d+)"/.exec(text);
    if (member !== null) this.memberId ??= member[1];
    let out = text
      .replace(/"(cluster_id|member_id|raft_term)":"\d+"/g, '"$1":"<$1>"')
      .split(this.clientUrl).join('<client-url>')
      .replace(/memberID:\d+/g, 'memberID:<member>')
      .replace(/http:\/\/127\.0\.0\.1:\d+/g, '<peer-url>')
      .replace(/"token":"[^"]*"/g, '"token":"<token>"');
    if (this.memberId !== undefined) out = out.split(`"${this.memberId}"`).join('"<member>"');
    out = out.replace(/"(ID|lease)":"(-?\d+)"/g, (_, field: string, decimal: string) => `"${field}":"${this.leases.name(BigInt(decimal))}"`);
    for (const field of step.implementationFields ?? []) {
      out = out.replace(new RegExp(`"${field}":("[^"]*"|[^,}]*)`, 'g'), `"${field}":"<${field}>"`);
    }
    const prefix = step.leaseKeyPrefix;
    if (prefix !== undefined) {
      out = out.replace(/"key":"([^"]*)"/g, (whole, key: string) => {
        const text = Buffer.from(key, 'base64').toString('utf8');
        return text.startsWith(prefix) ? `"key":"${this.leases.rewriteKeys(text, prefix)}"` : whole;
      });
    }
    const granted = step.grantedTtlSeconds;
    if (granted !== undefined) {
      out = out.replace(/"TTL":"(\d+)"/g, (whole, ttl: string) => (Number(ttl) <= granted && Number(ttl) >= granted - remainingTtlSlackSeconds ? '"TTL":"<remaining>"' : whole));
    }
    if (step.sortKeys === true) out = out.replace(/"keys":\[([^\]]*)\]/g, (_, list: string) => `"keys":[${list.split(',').sort().join(',')}]`);
    return out;
  }
}
