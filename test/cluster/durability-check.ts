// The crash test's judgement, as pure functions that return every violation
// found (not just the first), so one failed run shows the whole picture.
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import type { Ack } from './crash-protocol.js';
import { valueFor } from './crash-protocol.js';
import type { Snapshot } from './readback.js';

/** Acknowledged puts so far: key → revision from the PutResponse header. */
export type Acknowledged = Map<string, bigint>;

/**
 * Adds one cycle's acks to `acknowledged`. Every key is new and every put makes
 * one revision, so revisions must be unique, and they must be above `floorRevision`
 * (the store revision seen before the cycle began: revisions never go back).
 */
export function recordAcks(acknowledged: Acknowledged, acks: Ack[], floorRevision: bigint): string[] {
  const violations: string[] = [];
  const byRevision = new Map<bigint, string>();
  for (const revision of acknowledged.values()) byRevision.set(revision, '(earlier cycle)');
  for (const [key, revision] of acks) {
    if (acknowledged.has(key)) violations.push(`key ${key} acknowledged twice`);
    const other = byRevision.get(revision);
    if (other !== undefined) violations.push(`revision ${revision} acknowledged for both ${other} and ${key}`);
    if (revision <= floorRevision) violations.push(`${key} acknowledged at revision ${revision}, not above the store revision ${floorRevision} seen before`);
    byRevision.set(revision, key);
    acknowledged.set(key, revision);
  }
  return violations;
}

function describeKv(kv: KeyValue): string {
  return `mod ${kv.modRevision} create ${kv.createRevision} version ${kv.version}, ${kv.value.length} value bytes`;
}

/** Checks a key found in the store, acknowledged or not: written once, with the value its key dictates. */
function checkKv(kv: KeyValue): string[] {
  const key = kv.key.toString();
  const violations: string[] = [];
  if (!kv.value.equals(valueFor(key))) violations.push(`${key} holds a wrong value (${describeKv(kv)})`);
  if (kv.version !== 1n || kv.createRevision !== kv.modRevision) violations.push(`${key} was written once but reads ${describeKv(kv)}`);
  return violations;
}

/** Every acknowledged put must be in the snapshot, unchanged; nothing else under the prefix may be corrupt. */
export function checkSnapshot(acknowledged: Acknowledged, snapshot: Snapshot): string[] {
  const violations: string[] = [];
  const found = new Map<string, KeyValue>();
  const keyByModRevision = new Map<bigint, string>();
  for (const kv of snapshot.kvs) {
    const key = kv.key.toString();
    found.set(key, kv);
    violations.push(...checkKv(kv));
    const other = keyByModRevision.get(kv.modRevision);
    if (other !== undefined) violations.push(`${other} and ${key} share mod revision ${kv.modRevision}`);
    keyByModRevision.set(kv.modRevision, key);
  }
  let highestAcked = 0n;
  for (const [key, revision] of acknowledged) {
    if (revision > highestAcked) highestAcked = revision;
    const kv = found.get(key);
    if (kv === undefined) violations.push(`${key} (acknowledged at revision ${revision}) is missing`);
    else if (kv.modRevision !== revision) violations.push(`${key} was acknowledged at revision ${revision} but reads ${describeKv(kv)}`);
  }
  if (snapshot.revision < highestAcked) {
    violations.push(`store revision ${snapshot.revision} is below the highest acknowledged revision ${highestAcked}`);
  }
  return violations;
}

/** One line per violation, at most `shown`, with the total: enough to see the pattern. */
export function summarize(violations: string[], shown = 15): string {
  const more = violations.length > shown ? `\n  ... and ${violations.length - shown} more` : '';
  return `${violations.length} violations:\n  ${violations.slice(0, shown).join('\n  ')}${more}`;
}
