// A key's earlier values, newest first, read back one revision at a time
// (a range at mod revision − 1 gives the version before), until the key's
// creation, the last compaction, or `versionsMax`; and a line diff of any two.
import { diffLines } from 'diff';
import { useEffect, useState } from 'preact/hooks';
import { errorText } from '../errors.js';
import type { KeyValue } from '../gateway.js';
import { get } from '../kv.js';
import { formatOf, show } from '../value-format.js';

const versionsMax = 50;
/** etcd's message for a read below the compacted revision. */
const compactedMessage = 'etcdserver: mvcc: required revision has been compacted';

type Ending = 'created' | 'compacted' | 'limit' | { readonly error: string };

export function KeyHistory({ current }: { current: KeyValue }) {
  const [versions, setVersions] = useState<readonly KeyValue[]>([current]);
  const [ending, setEnding] = useState<Ending | undefined>(undefined);
  const [older, setOlder] = useState(1);
  const [newer, setNewer] = useState(0);

  useEffect(() => {
    let stopped = false;
    const finish = (found: KeyValue[], how: Ending): void => {
      if (stopped) return;
      setVersions(found);
      setEnding(how);
    };
    void (async () => {
      const found: KeyValue[] = [current];
      let kv = current;
      for (;;) {
        if (kv.version <= 1n) return finish(found, 'created');
        if (found.length >= versionsMax) return finish(found, 'limit');
        try {
          const before = await get(kv.key, kv.modRevision - 1n);
          if (stopped) return;
          if (before.kv === undefined) return finish(found, 'created');
          kv = before.kv;
          found.push(kv);
        } catch (failure) {
          return finish(found, errorText(failure) === compactedMessage ? 'compacted' : { error: errorText(failure) });
        }
      }
    })();
    return () => {
      stopped = true;
    };
  }, [current]);

  const a = versions[Math.min(older, versions.length - 1)];
  const b = versions[newer];
  return (
    <section class="history" aria-labelledby="history-title">
      <h3 id="history-title">History</h3>
      {ending === undefined && <p class="loading">Reading earlier revisions…</p>}
      <table>
        <thead>
          <tr><th scope="col">Mod revision</th><th scope="col">Version</th><th scope="col">Size</th><th scope="col">Compare</th></tr>
        </thead>
        <tbody>
          {versions.map((kv, index) => (
            <tr key={String(kv.modRevision)}>
              <td>{String(kv.modRevision)}</td>
              <td>{String(kv.version)}</td>
              <td>{kv.value.length} B</td>
              <td>
                <label><input type="radio" name="older" checked={index === older} onChange={() => setOlder(index)} /> from</label>{' '}
                <label><input type="radio" name="newer" checked={index === newer} onChange={() => setNewer(index)} /> to</label>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="history-end">{endingText(ending)}</p>
      {a !== undefined && b !== undefined && a !== b && <ValueDiff from={a} to={b} />}
    </section>
  );
}

function endingText(ending: Ending | undefined): string {
  if (ending === undefined) return '';
  if (ending === 'created') return 'The oldest row is the key’s creation.';
  if (ending === 'compacted') return 'Older revisions are compacted.';
  if (ending === 'limit') return `Only the last ${versionsMax} versions are shown.`;
  return `Reading stopped: ${ending.error}`;
}

function ValueDiff({ from, to }: { from: KeyValue; to: KeyValue }) {
  const format = formatOf(to.value);
  const parts = diffLines(show(from.value, format), show(to.value, format));
  return (
    <figure class="diff">
      <figcaption>Revision {String(from.modRevision)} → {String(to.modRevision)}</figcaption>
      <pre>
        {parts.map((part, index) =>
          part.added ? <ins key={index}>{part.value}</ins> : part.removed ? <del key={index}>{part.value}</del> : <span key={index}>{part.value}</span>,
        )}
      </pre>
    </figure>
  );
}
