// The leases page: every lease with its TTL counting down, its keys, and a
// revoke. etcd's API has no watch of leases, so the page lists them when it
// opens (and on Refresh), and a watch over the keyspace keeps them current:
// a key put with a lease not listed yet brings that lease in, puts and
// deletes move keys between leases. The countdown runs in the page; when it
// reaches zero the page asks the lease's time-to-live once — a lease kept
// alive elsewhere starts counting again, one that expired goes.
import { useEffect, useRef, useState } from 'preact/hooks';
import { binaryString, displayText, toBase64 } from '../bytes.js';
import { errorText } from '../errors.js';
import { leaseHex, leaseIds, revoke, timeToLive, type LeaseDetails } from '../leases.js';
import { prefixSpan, range } from '../kv.js';
import { hashOf } from '../routes.js';
import { watch, type WatchEvent } from '../watch-stream.js';
import { Confirm } from '../components/confirm.js';

/** Leases the page lists (the first by ID). */
const leasesShownMax = 500;
/** Keys shown per lease. */
const keysShownMax = 20;
/** After a failed time-to-live check, how long before the lease is asked about again. */
const failedCheckRetryMs = 5_000;

interface Tracked {
  readonly details: LeaseDetails;
  /** When the TTL reaches 0, on the page's clock (performance.now). */
  readonly deadlineMs: number;
  /** The TTL was found refreshed at a check: something keeps the lease alive. */
  readonly keptAlive: boolean;
}

export function LeasesPage({ params }: { params: URLSearchParams }) {
  const [leases, setLeases] = useState<ReadonlyMap<bigint, Tracked>>(new Map());
  const [total, setTotal] = useState(0);
  const [nowMs, setNowMs] = useState(() => performance.now());
  const [error, setError] = useState<string | undefined>(undefined);
  const [revoking, setRevoking] = useState<bigint | undefined>(undefined);
  const [loads, setLoads] = useState(0);
  const checking = useRef(new Set<bigint>());
  const shown = useRef(leases);
  shown.current = leases;
  const highlighted = params.get('lease');

  const track = (details: LeaseDetails, previous: Tracked | undefined): void => {
    setLeases((current) => {
      const next = new Map(current);
      if (details.ttlSeconds < 0) next.delete(details.id);
      else next.set(details.id, { details, deadlineMs: performance.now() + details.ttlSeconds * 1000, keptAlive: previous !== undefined && details.ttlSeconds > 0 });
      return next;
    });
  };

  const check = async (id: bigint, previous: Tracked | undefined): Promise<void> => {
    if (checking.current.has(id)) return;
    checking.current.add(id);
    try {
      track(await timeToLive(id), previous);
    } catch (failure) {
      setError(errorText(failure));
      // Asked again after a pause, not at every tick.
      setLeases((current) => {
        const tracked = current.get(id);
        if (tracked === undefined) return current;
        return new Map(current).set(id, { ...tracked, deadlineMs: performance.now() + failedCheckRetryMs });
      });
    } finally {
      checking.current.delete(id);
    }
  };

  // The list, then a watch from the revision it was read at.
  useEffect(() => {
    const stop = new AbortController();
    void (async () => {
      try {
        const everyKey = prefixSpan('');
        const { revision } = await range(everyKey.key, { rangeEnd: everyKey.rangeEnd, countOnly: true });
        const ids = (await leaseIds()).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        setTotal(ids.length);
        const listed = await Promise.all(ids.slice(0, leasesShownMax).map((id) => timeToLive(id)));
        if (stop.signal.aborted) return;
        const startMs = performance.now();
        setLeases(new Map(listed.filter((lease) => lease.ttlSeconds >= 0).map((lease) => [lease.id, { details: lease, deadlineMs: startMs + lease.ttlSeconds * 1000, keptAlive: false }])));
        setError(undefined);
        await watch({ ...everyKey, startRevision: revision + 1n }, (message) => {
          if (message.kind === 'events') follow(message.events);
        }, stop.signal);
      } catch (failure) {
        if (!stop.signal.aborted) setError(errorText(failure));
      }
    })();
    return () => stop.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [loads]);

  const follow = (events: readonly WatchEvent[]): void => {
    setLeases((current) => {
      const next = new Map(current);
      for (const event of events) {
        const id = binaryString(event.kv.key);
        // A key belongs to at most one lease: take it out everywhere, then add it where it now is.
        for (const [leaseId, tracked] of next) {
          if (tracked.details.keys.some((key) => binaryString(key) === id)) {
            next.set(leaseId, { ...tracked, details: { ...tracked.details, keys: tracked.details.keys.filter((key) => binaryString(key) !== id) } });
          }
        }
        if (event.type !== 'PUT' || event.kv.lease === 0n) continue;
        const owner = next.get(event.kv.lease);
        if (owner !== undefined) next.set(event.kv.lease, { ...owner, details: { ...owner.details, keys: [...owner.details.keys, event.kv.key] } });
      }
      return next;
    });
    // A lease not listed yet is read whole (its TTL and every key).
    const unknown = new Set(events.flatMap((event) => (event.type === 'PUT' && event.kv.lease !== 0n && !shown.current.has(event.kv.lease) ? [event.kv.lease] : [])));
    for (const id of unknown) void check(id, undefined);
  };

  // One timer ticks every countdown; a lease at zero is asked about once.
  useEffect(() => {
    const timer = setInterval(() => setNowMs(performance.now()), 250);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    for (const tracked of leases.values()) if (tracked.deadlineMs <= nowMs) void check(tracked.details.id, tracked);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [nowMs]);

  const doRevoke = async (id: bigint): Promise<void> => {
    setRevoking(undefined);
    try {
      await revoke(id);
      track({ id, ttlSeconds: -1, grantedTtlSeconds: 0, keys: [] }, undefined);
    } catch (failure) {
      setError(errorText(failure));
    }
  };

  const rows = [...leases.values()].sort((a, b) => (a.details.id < b.details.id ? -1 : 1));
  return (
    <div class="leases-page">
      <div class="pane-head">
        <h1>Leases</h1>
        <span class="count">{rows.length} {rows.length === 1 ? 'lease' : 'leases'}{total > leasesShownMax ? ` (the first ${leasesShownMax} of ${total})` : ''}</span>
        <button type="button" onClick={() => setLoads((count) => count + 1)}>Refresh</button>
      </div>
      <p class="hint">Leases granted since the page opened show when a key is attached to them, or on Refresh.</p>
      {error !== undefined && <p class="error" role="alert">{error}</p>}
      <table class="leases">
        <thead>
          <tr><th scope="col">Lease</th><th scope="col">TTL left</th><th scope="col">Granted TTL</th><th scope="col">Keys</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
        </thead>
        <tbody>
          {rows.map((tracked) => {
            const { details } = tracked;
            const hex = leaseHex(details.id);
            const left = Math.max(0, Math.ceil((tracked.deadlineMs - nowMs) / 1000));
            return (
              <tr key={hex} class={highlighted === hex ? 'highlighted' : undefined} data-lease={hex}>
                <td><code>{hex}</code></td>
                <td class="ttl">{left} s{tracked.keptAlive ? ' (kept alive)' : ''}</td>
                <td>{details.grantedTtlSeconds} s</td>
                <td>
                  {details.keys.length === 0 ? <span class="muted">none</span> : (
                    <ul class="lease-keys">
                      {details.keys.slice(0, keysShownMax).map((key) => (
                        <li key={binaryString(key)}><a href={hashOf('keys', { key: toBase64(key) })}>{displayText(key)}</a></li>
                      ))}
                      {details.keys.length > keysShownMax && <li class="muted">and {details.keys.length - keysShownMax} more</li>}
                    </ul>
                  )}
                </td>
                <td><button type="button" class="danger" onClick={() => setRevoking(details.id)} aria-label={`Revoke lease ${hex}`}>Revoke</button></td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {revoking !== undefined && (
        <Confirm title="Revoke this lease?" action="Revoke" danger onConfirm={() => void doRevoke(revoking)} onCancel={() => setRevoking(undefined)}>
          <p>Lease <code>{leaseHex(revoking)}</code> ends now, and its {leases.get(revoking)?.details.keys.length ?? 0} keys are deleted with it.</p>
        </Confirm>
      )}
    </div>
  );
}
