// The coordination page: the locks, elections, read/write locks, queues,
// double barriers and service instances in the keyspace, found by their key
// layouts (coordination.ts), with who holds or leads, who waits in which
// order, and the fencing token. The page reads the keys (keys only, up to
// `scanKeysMax`), then the values of the elections' and services' keys, and
// reads again when its watch sees a change in the scanned range (changes
// gathered for `rescanDelayMs`, at most one read per `rescanIntervalMinMs`).
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { displayText, prefixEnd, strictText, toBase64, utf8 } from '../bytes.js';
import { classify, type Found, type Participant, type ScannedKey } from '../coordination.js';
import { errorText } from '../errors.js';
import { leaseHex } from '../leases.js';
import { prefixSpan, range } from '../kv.js';
import { hashOf } from '../routes.js';
import { watch } from '../watch-stream.js';

const scanKeysMax = 10_000;
/** Keys of one election or service whose values are read. */
const valuesPerGroupMax = 100;
/** How long the page lets changes gather before it reads again, and the least time between two reads. */
const rescanDelayMs = 200;
const rescanIntervalMinMs = 1_000;

interface Scan {
  readonly found: Found;
  /** Values of the elections' candidates and the services' instances, by key. */
  readonly values: ReadonlyMap<string, Uint8Array>;
  readonly revision: bigint;
  readonly truncated: boolean;
}

async function scan(prefix: string): Promise<Scan> {
  const span = prefixSpan(prefix);
  const listed = await range(span.key, { rangeEnd: span.rangeEnd, keysOnly: true, limit: scanKeysMax });
  const keysOnly: ScannedKey[] = listed.kvs.map((kv) => ({ key: kv.key, createRevision: kv.createRevision, lease: kv.lease, valueBytes: 0 }));
  const first = classify(keysOnly);
  // Lock or election, and what each instance says: the values of those groups, read at the scan's revision.
  const groups = [...first.lines.map((line) => line.name), ...first.services.map((service) => service.name)];
  const values = new Map<string, Uint8Array>();
  for (const name of groups) {
    const groupPrefix = utf8(`${name}/`);
    const read = await range(groupPrefix, { rangeEnd: prefixEnd(groupPrefix), limit: valuesPerGroupMax, revision: listed.revision });
    for (const kv of read.kvs) values.set(displayText(kv.key), kv.value);
  }
  const found = classify(keysOnly.map((key) => ({ ...key, valueBytes: values.get(displayText(key.key))?.length ?? 0 })));
  return { found, values, revision: listed.revision, truncated: listed.more };
}

export function CoordinationPage({ params }: { params: URLSearchParams }) {
  const [prefix, setPrefix] = useState(params.get('prefix') ?? '');
  const [scanned, setScanned] = useState<Scan | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [generation, setGeneration] = useState(0);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => {
    const stop = new AbortController();
    let lastScanMs = 0;
    // One scan at a time: changes seen meanwhile ask for one more when it is done.
    let scanning = false;
    let again = false;
    const rescan = async (): Promise<bigint> => {
      scanning = true;
      lastScanMs = performance.now();
      try {
        const result = await scan(prefix);
        if (!stop.signal.aborted) setScanned(result);
        return result.revision;
      } finally {
        scanning = false;
        if (again && !stop.signal.aborted) {
          again = false;
          schedule();
        }
      }
    };
    const schedule = (): void => {
      if (scanning) {
        again = true;
        return;
      }
      if (pending.current !== undefined) return;
      const delayMs = Math.max(rescanDelayMs, lastScanMs + rescanIntervalMinMs - performance.now());
      pending.current = setTimeout(() => {
        pending.current = undefined;
        void rescan().catch((failure) => setError(errorText(failure)));
      }, delayMs);
    };
    void (async () => {
      try {
        const revision = await rescan();
        setError(undefined);
        await watch({ ...prefixSpan(prefix), startRevision: revision + 1n }, (message) => {
          // One read for every change of the next moment (and under a stream of writes, one a second): never postponed for good.
          if (message.kind === 'events') schedule();
        }, stop.signal);
      } catch (failure) {
        if (!stop.signal.aborted) setError(errorText(failure));
      }
    })();
    return () => {
      stop.abort();
      clearTimeout(pending.current);
      pending.current = undefined;
    };
    // The prefix applies when the form is submitted (generation), not at each keystroke.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [generation]);

  const found = scanned?.found;
  const value = (key: string): string => {
    const bytes = scanned?.values.get(key);
    return bytes === undefined ? '' : (strictText(bytes) ?? `${bytes.length} bytes`);
  };
  const locks = found?.lines.filter((line) => line.kind === 'lock') ?? [];
  const elections = found?.lines.filter((line) => line.kind === 'election') ?? [];
  return (
    <div class="coordination-page">
      <h1>Coordination</h1>
      <form class="watch-form" onSubmit={(event) => { event.preventDefault(); setGeneration((count) => count + 1); }}>
        <label>Prefix <input name="prefix" value={prefix} spellcheck={false} placeholder="every key" onInput={(event) => setPrefix((event.target as HTMLInputElement).value)} /></label>
        <button type="submit">Look</button>
        <span class="watch-state">
          {scanned === undefined ? 'Reading…' : `As of revision ${scanned.revision}${scanned.truncated ? ` — only the first ${scanKeysMax} keys were read: narrow the prefix` : ''}.`}
        </span>
      </form>
      {error !== undefined && <p class="error" role="alert">{error}</p>}
      {found !== undefined && (
        <>
          <Section title="Locks" empty="No locks held or waited for." count={locks.length}>
            {locks.map((line) => (
              <Line key={line.name} name={line.name} head="Holder" participants={line.participants} describe={(p, index) => (index === 0 ? `fencing token ${p.createRevision}` : `waiting, created at ${p.createRevision}`)} />
            ))}
          </Section>
          <Section title="Elections" empty="No elections." count={elections.length}>
            {elections.map((line) => (
              <Line key={line.name} name={line.name} head="Leader" participants={line.participants} describe={(p, index) => `${index === 0 ? 'leads' : 'candidate'}: ${value(p.key)}`} />
            ))}
          </Section>
          <Section title="Read/write locks" empty="No read/write locks." count={found.rwLocks.length}>
            {found.rwLocks.map((lock) => (
              <div class="structure" key={lock.name}>
                <h3>{lock.name}</h3>
                <p>Held by {lock.holders.length} {lock.holdersKind === 'write' ? 'writer' : lock.holders.length === 1 ? 'reader' : 'readers'}; {lock.waiting} waiting.</p>
              </div>
            ))}
          </Section>
          <Section title="Queues" empty="No queues." count={found.queues.length}>
            <ul class="structure-list">
              {found.queues.map((queue) => (
                <li key={queue.name}>
                  <strong>{queue.name}</strong>: {queue.length} {queue.length === 1 ? 'item' : 'items'}
                  {queue.byPriority !== undefined && ` (by priority: ${queue.byPriority.map(([priority, count]) => `${priority}: ${count}`).join(', ')})`}
                </li>
              ))}
            </ul>
          </Section>
          <Section title="Double barriers" empty="No double barriers." count={found.doubleBarriers.length}>
            <ul class="structure-list">
              {found.doubleBarriers.map((barrier) => (
                <li key={barrier.name}><strong>{barrier.name}</strong>: {barrier.entered} entered{barrier.ready ? ', ready' : ', not ready yet'}</li>
              ))}
            </ul>
          </Section>
          <Section title="Services" empty="No keys on leases other than the above." count={found.services.length}>
            {found.services.map((service) => (
              <div class="structure" key={service.name}>
                <h3>{service.name}</h3>
                <ul class="structure-list">
                  {service.instances.map((instance) => (
                    <li key={instance.key}><KeyLink participant={instance} /> <span class="muted">{value(instance.key)}</span></li>
                  ))}
                </ul>
              </div>
            ))}
          </Section>
        </>
      )}
    </div>
  );
}

function Section({ title, empty, count, children }: { title: string; empty: string; count: number; children: ComponentChildren }) {
  return (
    <section class="coordination-section" aria-label={title}>
      <h2>{title}</h2>
      {count === 0 ? <p class="muted">{empty}</p> : children}
    </section>
  );
}

function Line({ name, head, participants, describe }: { name: string; head: string; participants: readonly Participant[]; describe: (participant: Participant, index: number) => string }) {
  return (
    <div class="structure" data-name={name}>
      <h3>{name}</h3>
      <ol class="line">
        {participants.map((participant, index) => (
          <li key={participant.key} class={index === 0 ? 'head' : 'waiter'}>
            {index === 0 ? `${head}: ` : ''}lease <code>{leaseHex(participant.lease)}</code> — {describe(participant, index)} <KeyLink participant={participant} />
          </li>
        ))}
      </ol>
    </div>
  );
}

function KeyLink({ participant }: { participant: Participant }) {
  return <a class="key-link" href={hashOf('keys', { key: toBase64(utf8(participant.key)) })}>{participant.key}</a>;
}
