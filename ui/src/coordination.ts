// Finds the coordination recipes in a keyspace by their key layouts (etcd's
// concurrency and recipe packages, which cairn's recipes share):
//
//   <name>/<lease hex>                 a lock (etcdctl lock, the Lock service, Mutex,
//                                      Semaphore) or, when the keys hold values, an
//                                      election (etcdctl elect, Election): the key
//                                      created first holds it or leads, the others
//                                      wait in create-revision order
//   <name>/read/<unique>, /write/<unique>  a read/write lock (on leases)
//   <name>/waiters/<unique>, <name>/ready  a double barrier (on leases)
//   <name>/<unique>                    a queue (no lease); <name>/<5 digits>/<unique>
//                                      a priority queue
//   <service>/<id> on a lease          anything else on a lease: service instances
//
// <unique> is etcd's newUniqueKV name (nanoseconds) or cairn's
// (<20 digits>-<8 hex>-<counter>). A single-key Barrier looks like any key, so
// it is not found here. Worked example: keys job/694d5a1e9f (lease 694d5a1e9f,
// created at 7) and job/694d5a1e88 (lease 694d5a1e88, created at 9), both empty,
// are the lock "job" held by lease 694d5a1e9f with fencing token 7, and one waiter.
import { displayText } from './bytes.js';

/** What the classification needs of a key (its value only for elections and services). */
export interface ScannedKey {
  readonly key: Uint8Array;
  readonly createRevision: bigint;
  readonly lease: bigint;
  readonly valueBytes: number;
}

export interface Participant {
  readonly key: string;
  readonly lease: bigint;
  readonly createRevision: bigint;
}

export interface Found {
  /** Session-owned queues: a lock's or an election's participants, in create-revision order (holder or leader first). */
  readonly lines: ReadonlyArray<{ readonly name: string; readonly kind: 'lock' | 'election'; readonly participants: readonly Participant[] }>;
  readonly rwLocks: ReadonlyArray<{ readonly name: string; readonly holders: readonly Participant[]; readonly holdersKind: 'read' | 'write'; readonly waiting: number }>;
  readonly doubleBarriers: ReadonlyArray<{ readonly name: string; readonly entered: number; readonly ready: boolean }>;
  readonly queues: ReadonlyArray<{ readonly name: string; readonly length: number; readonly byPriority: ReadonlyArray<readonly [number, number]> | undefined }>;
  readonly services: ReadonlyArray<{ readonly name: string; readonly instances: readonly Participant[] }>;
}

const uniqueName = /^(\d{19,20}-[0-9a-f]{8}-\d+|\d{16,20})$/;
const priorityName = /^\d{5}$/;

/** The key's folder and last segment (text). */
function split(key: string): { parent: string; last: string } {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? { parent: '', last: key } : { parent: key.slice(0, slash), last: key.slice(slash + 1) };
}

export function classify(keys: readonly ScannedKey[]): Found {
  const lines = new Map<string, { participants: Participant[]; withValues: boolean }>();
  const rw = new Map<string, Array<Participant & { kind: 'read' | 'write' }>>();
  const barriers = new Map<string, { entered: number; ready: boolean }>();
  const queues = new Map<string, { length: number; priorities: Map<number, number> | undefined }>();
  const services = new Map<string, Participant[]>();
  const readyKeys = new Set<string>();
  for (const scanned of keys) {
    const key = displayText(scanned.key);
    const { parent, last } = split(key);
    const participant = { key, lease: scanned.lease, createRevision: scanned.createRevision };
    if (last === 'ready') readyKeys.add(parent);
    if (scanned.lease !== 0n && last === scanned.lease.toString(16) && parent !== '') {
      const line = lines.get(parent) ?? { participants: [], withValues: false };
      line.participants.push(participant);
      line.withValues ||= scanned.valueBytes > 0;
      lines.set(parent, line);
      continue;
    }
    if (uniqueName.test(last)) {
      const { parent: grandparent, last: role } = split(parent);
      if (scanned.lease !== 0n && (role === 'read' || role === 'write')) {
        rw.set(grandparent, [...(rw.get(grandparent) ?? []), { ...participant, kind: role }]);
        continue;
      }
      if (scanned.lease !== 0n && role === 'waiters') {
        const barrier = barriers.get(grandparent) ?? { entered: 0, ready: false };
        barrier.entered++;
        barriers.set(grandparent, barrier);
        continue;
      }
      if (scanned.lease === 0n) {
        const priority = priorityName.test(role) ? Number(role) : undefined;
        const name = priority === undefined ? parent : grandparent;
        const queue = queues.get(name) ?? { length: 0, priorities: priority === undefined ? undefined : new Map<number, number>() };
        queue.length++;
        if (priority !== undefined) queue.priorities?.set(priority, (queue.priorities.get(priority) ?? 0) + 1);
        queues.set(name, queue);
        continue;
      }
    }
    if (scanned.lease !== 0n && last !== 'ready') services.set(parent, [...(services.get(parent) ?? []), participant]);
  }
  const byRevision = (a: Participant, b: Participant): number => (a.createRevision < b.createRevision ? -1 : a.createRevision > b.createRevision ? 1 : 0);
  return {
    lines: [...lines].map(([name, line]) => ({ name, kind: line.withValues ? ('election' as const) : ('lock' as const), participants: line.participants.sort(byRevision) })),
    rwLocks: [...rw].map(([name, participants]) => {
      const ordered = participants.sort(byRevision);
      const first = ordered[0];
      // A writer holds alone; readers hold together up to the first writer.
      const firstWriter = ordered.findIndex((participant) => participant.kind === 'write');
      const holders = first?.kind === 'write' ? [first] : firstWriter < 0 ? ordered : ordered.slice(0, firstWriter);
      return { name, holders, holdersKind: first?.kind ?? 'read', waiting: ordered.length - holders.length };
    }),
    doubleBarriers: [...barriers].map(([name, barrier]) => ({ name, entered: barrier.entered, ready: readyKeys.has(name) })),
    queues: [...queues].map(([name, queue]) => ({ name, length: queue.length, byPriority: queue.priorities === undefined ? undefined : [...queue.priorities].sort((a, b) => a[0] - b[0]) })),
    services: [...services].map(([name, instances]) => ({ name, instances: instances.sort((a, b) => (a.key < b.key ? -1 : 1)) })),
  };
}
