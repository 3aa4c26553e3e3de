// The keys page: the keyspace as a tree of '/'-separated folders (listed a
// page at a time, key-tree.ts) beside the selected key. One watch over the
// whole keyspace, from the revision of the first listing on, keeps both
// current: a put adds its entry to every listed folder it falls in, a delete
// takes it out, and the selected key's panel sees its new value.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { binaryString, displayText, fromBase64, fromBinaryString, prefixEnd, toBase64, utf8 } from '../bytes.js';
import { errorText } from '../errors.js';
import { afterEvents, entryOf, inFolder, listFolder, withoutEntry, type Listing, type RangeKeys, type TreeEntry } from '../key-tree.js';
import { prefixSpan, range } from '../kv.js';
import { hashOf } from '../routes.js';
import { watch, type WatchEvent } from '../watch-stream.js';
import { KeyPanel, type KeyUpdate } from '../components/key-panel.js';

/** Entries shown per folder before "Show more", and the most a listed folder holds as keys arrive. */
const entriesPerPage = 200;
const liveEntriesMax = 1_000;
/** etcd's answer to a range the user may not read (the console then asks for a prefix to start from). */
const permissionDenied = 'etcdserver: permission denied';

type Live = { readonly kind: 'starting' } | { readonly kind: 'live'; readonly revision: bigint } | { readonly kind: 'stopped'; readonly reason: string };

const rangeKeys: RangeKeys = async (from, end, limit) => {
  const found = await range(from, { rangeEnd: end, limit, keysOnly: true });
  return { keys: found.kvs.map((kv) => kv.key), more: found.more };
};

export function KeysPage({ params }: { params: URLSearchParams }) {
  const selectedParam = params.get('key');
  const selected = useMemo(() => (selectedParam === null ? undefined : fromBase64(selectedParam)), [selectedParam]);
  const creating = params.get('new') !== null;
  // The tree may start below the keyspace's root (?root=/app/): a user allowed only a prefix lists from there.
  const root = params.get('root') ?? '';
  const rootId = binaryString(utf8(root));
  const span = prefixSpan(root);
  const linkParams: Record<string, string> = root === '' ? {} : { root };
  const [listings, setListings] = useState<ReadonlyMap<string, Listing>>(new Map());
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set([rootId, ...ancestorsOf(selected).filter((id) => id.length > rootId.length && id.startsWith(rootId))]));
  const [total, setTotal] = useState<bigint | undefined>(undefined);
  const [live, setLive] = useState<Live>({ kind: 'starting' });
  const [update, setUpdate] = useState<KeyUpdate | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [restarts, setRestarts] = useState(0);
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  const listingsRef = useRef(listings);
  listingsRef.current = listings;
  /** Folders being read, with the watch's events seen meanwhile. */
  const loadingRef = useRef(new Map<string, WatchEvent[]>());
  const [loading, setLoading] = useState<ReadonlySet<string>>(new Set());

  const load = useCallback(async (folderId: string, from?: Uint8Array) => {
    if (loadingRef.current.has(folderId)) return;
    // Events the watch delivers while the folder is read are replayed over the listing once it lands.
    const seen: WatchEvent[] = [];
    loadingRef.current.set(folderId, seen);
    setLoading(new Set(loadingRef.current.keys()));
    try {
      const prefix = fromBinaryString(folderId);
      const listed = await listFolder(rangeKeys, prefix, from, entriesPerPage);
      setListings((current) => {
        const next = new Map(current);
        const before = from === undefined ? undefined : current.get(folderId);
        const joined = before === undefined ? listed : { entries: [...before.entries, ...listed.entries], next: listed.next };
        next.set(folderId, afterEvents(prefix, joined, seen, liveEntriesMax));
        return next;
      });
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      loadingRef.current.delete(folderId);
      setLoading(new Set(loadingRef.current.keys()));
    }
  }, []);

  // The first listing's revision starts the watch: every change after it reaches the tree.
  useEffect(() => {
    const stop = new AbortController();
    setLive({ kind: 'starting' });
    void (async () => {
      try {
        // A (re)start lists again every folder it shows; the others are read again when opened.
        setListings(new Map());
        const counted = await range(span.key, { rangeEnd: span.rangeEnd, countOnly: true, signal: stop.signal });
        setTotal(counted.count);
        await Promise.all([...expanded].map((folderId) => load(folderId)));
        await watch({ key: span.key, rangeEnd: span.rangeEnd, startRevision: counted.revision + 1n }, (message) => {
          if (message.kind === 'created') setLive({ kind: 'live', revision: counted.revision });
          if (message.kind === 'events') {
            setLive({ kind: 'live', revision: message.revision });
            applyEvents(message.events);
          }
          if (message.kind === 'compacted' || message.kind === 'canceled') setLive({ kind: 'stopped', reason: message.kind === 'compacted' ? 'the watch fell behind a compaction' : message.reason });
        }, stop.signal);
        if (!stop.signal.aborted) setLive((current) => (current.kind === 'stopped' ? current : { kind: 'stopped', reason: 'the server ended the watch' }));
      } catch (failure) {
        if (!stop.signal.aborted) setLive({ kind: 'stopped', reason: errorText(failure) });
      }
    })();
    return () => stop.abort();
    // Listings already loaded are kept across a restart; `expanded` is read once per (re)start on purpose.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [restarts]);

  const applyEvents = (events: readonly WatchEvent[]): void => {
    for (const seen of loadingRef.current.values()) seen.push(...events);
    setListings((current) => {
      const next = new Map(current);
      for (const [folderId, listing] of next) next.set(folderId, afterEvents(fromBinaryString(folderId), listing, events, liveEntriesMax));
      return next;
    });
    // The subfolders of listed folders that a delete fell in: each may have lost its last key.
    const emptied = new Set<string>();
    for (const event of events) {
      if (event.type !== 'DELETE') continue;
      for (const folderId of listingsRef.current.keys()) {
        const prefix = fromBinaryString(folderId);
        if (!inFolder(prefix, event.kv.key)) continue;
        const entry = entryOf(prefix, event.kv.key);
        if (entry.kind === 'folder') emptied.add(entry.id);
      }
    }
    setTotal((count) => (count === undefined ? count : events.reduce((sum, event) => sum + (event.type === 'DELETE' ? -1n : event.kv.version === 1n ? 1n : 0n), count)));
    const mine = events.filter((event) => selectedRef.current !== undefined && binaryString(event.kv.key) === binaryString(selectedRef.current));
    const last = mine[mine.length - 1];
    if (last !== undefined) setUpdate({ key: last.kv.key, kv: last.type === 'PUT' ? last.kv : undefined, revision: last.kv.modRevision });
    // A delete may have emptied a folder: it goes when no key is left under it.
    for (const folderId of emptied) void dropIfEmpty(folderId);
  };

  const dropIfEmpty = async (folderId: string): Promise<void> => {
    const prefix = fromBinaryString(folderId);
    const left = await range(prefix, { rangeEnd: prefixEnd(prefix), limit: 1, keysOnly: true }).catch(() => undefined);
    if (left === undefined || left.kvs.length > 0) return;
    setListings((current) => {
      const next = new Map(current);
      for (const [id, listing] of next) next.set(id, withoutEntry(listing, folderId));
      return next;
    });
  };

  const toggle = (folderId: string): void => {
    const opening = !expanded.has(folderId);
    setExpanded((current) => {
      const next = new Set(current);
      if (opening) next.add(folderId);
      else next.delete(folderId);
      return next;
    });
    if (opening && !listingsRef.current.has(folderId)) void load(folderId);
  };

  const newKeyPrefix = useMemo(() => {
    const deepest = [...expanded].sort((a, b) => b.length - a.length)[0] ?? rootId;
    return displayText(fromBinaryString(deepest));
  }, [expanded]);

  return (
    <div class="keys-page">
      <section class="tree-pane" aria-labelledby="tree-title">
        <div class="pane-head">
          <h1 id="tree-title">{root === '' ? 'Keys' : `Keys under ${root}`}</h1>
          <span class="count">{total === undefined ? '' : `${total} ${total === 1n ? 'key' : 'keys'}`}</span>
          <a class="button" href={hashOf('keys', { ...linkParams, new: '1' })}>New key</a>
        </div>
        <LiveStatus live={live} onRestart={() => setRestarts((count) => count + 1)} />
        {error !== undefined && <p class="error" role="alert">{error}</p>}
        {(error === permissionDenied || (live.kind === 'stopped' && live.reason === permissionDenied)) && <RootChoice root={root} />}
        <div class="tree">
          <FolderEntries folderId={rootId} listings={listings} loading={loading} expanded={expanded} selected={selected} onToggle={toggle} onMore={load} linkParams={linkParams} />
        </div>
      </section>
      <section class="key-pane" aria-label="Selected key">
        {creating ? (
          <KeyPanel key="new" mode="create" keyPrefix={newKeyPrefix} linkParams={linkParams} />
        ) : selected === undefined ? (
          <p class="hint">Select a key, or make a new one.</p>
        ) : (
          <KeyPanel key={selectedParam ?? ''} mode="view" keyBytes={selected} update={update} />
        )}
      </section>
    </div>
  );
}

function LiveStatus({ live, onRestart }: { live: Live; onRestart: () => void }) {
  if (live.kind === 'starting') return <p class="live">Connecting…</p>;
  if (live.kind === 'live') return <p class="live on"><span aria-hidden="true">●</span> Live at revision <span class="revision">{String(live.revision)}</span></p>;
  return (
    <p class="live off" role="status">
      Live updates stopped: {live.reason} <button type="button" onClick={onRestart}>Reconnect</button>
    </p>
  );
}

interface FolderProps {
  folderId: string;
  listings: ReadonlyMap<string, Listing>;
  /** Folders being read: their "Show more" waits. */
  loading: ReadonlySet<string>;
  expanded: ReadonlySet<string>;
  selected: Uint8Array | undefined;
  onToggle: (folderId: string) => void;
  onMore: (folderId: string, from: Uint8Array) => void;
  /** What every link of the tree carries (the tree's root). */
  linkParams: Record<string, string>;
}

function FolderEntries(props: FolderProps) {
  const listing = props.listings.get(props.folderId);
  if (listing === undefined) return <p class="loading">Loading…</p>;
  const prefixLength = fromBinaryString(props.folderId).length;
  if (listing.entries.length === 0) return <p class="empty">No keys.</p>;
  const selectedId = props.selected === undefined ? undefined : binaryString(props.selected);
  const next = listing.next;
  return (
    <ul class="entries">
      {listing.entries.map((entry) => (
        <EntryItem key={entry.id} entry={entry} name={nameOf(entry, prefixLength)} selected={entry.id === selectedId} folder={props} />
      ))}
      {next !== undefined && (
        <li>
          <button type="button" class="more" disabled={props.loading.has(props.folderId)} onClick={() => props.onMore(props.folderId, next)}>Show more</button>
        </li>
      )}
    </ul>
  );
}

function EntryItem({ entry, name, selected, folder }: { entry: TreeEntry; name: string; selected: boolean; folder: FolderProps }) {
  if (entry.kind === 'key') {
    return (
      <li>
        <a class="entry key" href={hashOf('keys', { ...folder.linkParams, key: toBase64(entry.key) })} aria-current={selected ? 'true' : undefined}>{name}</a>
      </li>
    );
  }
  const open = folder.expanded.has(entry.id);
  return (
    <li>
      <button type="button" class="entry folder" aria-expanded={open} onClick={() => folder.onToggle(entry.id)}>
        <span aria-hidden="true" class="chevron">{open ? '▾' : '▸'}</span> {name}
      </button>
      {open && <FolderEntries {...folder} folderId={entry.id} />}
    </li>
  );
}

/** Where to start the tree when the user may not read all of it. */
function RootChoice({ root }: { root: string }) {
  const [prefix, setPrefix] = useState(root);
  return (
    <form class="root-choice" onSubmit={(event) => { event.preventDefault(); location.hash = hashOf('keys', { root: prefix }); }}>
      <label for="root-prefix">You may not read {root === '' ? 'every key' : `every key under ${root}`}. List from the prefix</label>
      <input id="root-prefix" value={prefix} spellcheck={false} onInput={(event) => setPrefix((event.target as HTMLInputElement).value)} />
      <button type="submit">List</button>
    </form>
  );
}

/** An entry's name within its folder: its bytes after the folder's prefix, as text. */
function nameOf(entry: TreeEntry, prefixLength: number): string {
  const bytes = entry.kind === 'key' ? entry.key : entry.prefix;
  return displayText(bytes.subarray(prefixLength)) || '(empty)';
}

/** The folders (ids) that hold `key`, outermost first: so that a bookmarked key opens the tree down to it. */
function ancestorsOf(key: Uint8Array | undefined): string[] {
  if (key === undefined) return [];
  const ids: string[] = [];
  for (let at = key.indexOf(0x2f); at >= 0; at = key.indexOf(0x2f, at + 1)) ids.push(binaryString(key.subarray(0, at + 1)));
  return ids;
}

