// The watch page: a watch on a key or a prefix, from a revision or from now,
// its events streaming into a table of fixed-height rows (no layout shift).
// Pausing keeps the watch and holds its events back; filters hide puts or
// deletes without touching the watch. The page keeps the newest
// `eventsShownMax` events and holds at most `heldMax` while paused.
import { useEffect, useRef, useState } from 'preact/hooks';
import { displayText, fromBase64, prefixEnd, strictText, toHex, utf8 } from '../bytes.js';
import { errorText } from '../errors.js';
import { watch, type WatchEvent } from '../watch-stream.js';

const eventsShownMax = 1_000;
const heldMax = 10_000;
/** Characters of a value a row shows. */
const valuePreviewMax = 120;

interface Shown extends WatchEvent {
  readonly sequence: number;
}

type State = { readonly kind: 'idle' } | { readonly kind: 'watching'; readonly since: string } | { readonly kind: 'ended'; readonly reason: string };

export function WatchPage({ params }: { params: URLSearchParams }) {
  const initialKey = params.get('key');
  // A key given as bytes (?key=<base64>, from the keys page) is watched as those bytes until the text is edited.
  const [keyBytes, setKeyBytes] = useState<Uint8Array | undefined>(initialKey === null ? undefined : fromBase64(initialKey));
  const [keyText, setKeyText] = useState(keyBytes === undefined ? '' : displayText(keyBytes));
  const [prefix, setPrefix] = useState(params.get('prefix') === '1');
  const [startRevision, setStartRevision] = useState(params.get('from') ?? '');
  const [prevKv, setPrevKv] = useState(false);
  const [state, setState] = useState<State>({ kind: 'idle' });
  const [events, setEvents] = useState<readonly Shown[]>([]);
  const [dropped, setDropped] = useState(0);
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState(0);
  const [showPuts, setShowPuts] = useState(true);
  const [showDeletes, setShowDeletes] = useState(true);
  const stop = useRef<AbortController | undefined>(undefined);
  const pausedRef = useRef(false);
  const holding = useRef<WatchEvent[]>([]);
  const sequence = useRef(0);
  /** The events shown, as the last show() left them. */
  const shown = useRef<readonly Shown[]>([]);
  const list = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);

  useEffect(() => () => stop.current?.abort(), []);
  useEffect(() => {
    if (initialKey !== null) start();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(() => {
    // Stay at the newest event unless the reader scrolled up.
    if (pinned.current && list.current !== null) list.current.scrollTop = list.current.scrollHeight;
  }, [events]);

  const show = (incoming: readonly WatchEvent[]): void => {
    const next = [...shown.current, ...incoming.map((event) => ({ ...event, sequence: sequence.current++ }))];
    const overflow = Math.max(0, next.length - eventsShownMax);
    shown.current = overflow > 0 ? next.slice(overflow) : next;
    if (overflow > 0) setDropped((count) => count + overflow);
    setEvents(shown.current);
  };

  const start = (): void => {
    stop.current?.abort();
    const controller = new AbortController();
    stop.current = controller;
    const everyKey = keyText === '' && keyBytes === undefined;
    const key = everyKey ? new Uint8Array([0]) : (keyBytes ?? utf8(keyText));
    const rangeEnd = everyKey ? new Uint8Array([0]) : prefix ? prefixEnd(key) : undefined;
    const from = /^\d+$/.test(startRevision.trim()) ? BigInt(startRevision.trim()) : 0n;
    shown.current = [];
    setEvents([]);
    setDropped(0);
    // A new watch starts unpaused, with nothing of the last one held back.
    holding.current = [];
    setHeld(0);
    pausedRef.current = false;
    setPaused(false);
    setState({ kind: 'watching', since: from === 0n ? 'now' : `revision ${from}` });
    watch({ key, ...(rangeEnd === undefined ? {} : { rangeEnd }), startRevision: from, prevKv }, (message) => {
      if (message.kind === 'events') {
        if (!pausedRef.current) return show(message.events);
        holding.current.push(...message.events);
        const overflow = holding.current.length - heldMax;
        if (overflow > 0) {
          holding.current.splice(0, overflow);
          setDropped((count) => count + overflow);
        }
        setHeld(holding.current.length);
      }
      if (message.kind === 'compacted') setState({ kind: 'ended', reason: `revision ${from} is compacted: the oldest revision left is ${message.compactRevision}` });
      if (message.kind === 'canceled') setState({ kind: 'ended', reason: `the server canceled the watch${message.reason === '' ? '' : `: ${message.reason}`}` });
    }, controller.signal).then(
      () => setState((current) => (controller.signal.aborted || current.kind === 'ended' ? current : { kind: 'ended', reason: 'the server ended the watch' })),
      (failure) => setState({ kind: 'ended', reason: errorText(failure) }),
    );
  };

  const stopWatching = (): void => {
    stop.current?.abort();
    setState({ kind: 'ended', reason: 'stopped' });
  };

  const togglePause = (): void => {
    const pausing = !paused;
    pausedRef.current = pausing;
    setPaused(pausing);
    if (!pausing) {
      show(holding.current);
      holding.current = [];
      setHeld(0);
    }
  };

  const visible = events.filter((event) => (event.type === 'PUT' ? showPuts : showDeletes));
  return (
    <div class="watch-page">
      <h1>Watch</h1>
      <form class="watch-form" onSubmit={(event) => { event.preventDefault(); start(); }}>
        <label>Key <input name="key" value={keyText} spellcheck={false} placeholder="every key" onInput={(event) => { setKeyBytes(undefined); setKeyText((event.target as HTMLInputElement).value); }} /></label>
        <label><input type="checkbox" checked={prefix} onChange={() => setPrefix(!prefix)} /> Prefix</label>
        <label>From revision <input name="from" inputMode="numeric" value={startRevision} placeholder="now" size={10} onInput={(event) => setStartRevision((event.target as HTMLInputElement).value)} /></label>
        <label><input type="checkbox" checked={prevKv} onChange={() => setPrevKv(!prevKv)} /> Previous values</label>
        <button type="submit" class="primary">{state.kind === 'watching' ? 'Restart' : 'Start'}</button>
        <button type="button" disabled={state.kind !== 'watching'} onClick={stopWatching}>Stop</button>
      </form>
      <div class="watch-controls">
        <button type="button" aria-pressed={paused} disabled={state.kind !== 'watching'} onClick={togglePause}>{paused ? 'Resume' : 'Pause'}</button>
        {paused && <span class="held">{held} held</span>}
        <label><input type="checkbox" checked={showPuts} onChange={() => setShowPuts(!showPuts)} /> Puts</label>
        <label><input type="checkbox" checked={showDeletes} onChange={() => setShowDeletes(!showDeletes)} /> Deletes</label>
        {/* Only the watch's state is announced; the counts change with every event. */}
        <span class="watch-state" role="status">
          {state.kind === 'idle' ? 'Not watching.' : state.kind === 'watching' ? `Watching from ${state.since}.` : `Ended: ${state.reason}.`}
        </span>
        {dropped > 0 && <span class="watch-state">{dropped} older events dropped.</span>}
      </div>
      <div class="events" ref={list} tabIndex={0} role="region" aria-label="Events" onScroll={(event) => {
        const element = event.currentTarget;
        pinned.current = element.scrollHeight - element.scrollTop - element.clientHeight < 8;
      }}>
        <table>
          <thead>
            <tr><th scope="col">Revision</th><th scope="col">Type</th><th scope="col">Key</th><th scope="col">Value</th>{prevKv && <th scope="col">Previous</th>}</tr>
          </thead>
          <tbody>
            {visible.map((event) => (
              <tr key={event.sequence} class={event.type === 'DELETE' ? 'delete' : 'put'}>
                <td>{String(event.kv.modRevision)}</td>
                <td>{event.type}</td>
                <td>{displayText(event.kv.key)}</td>
                <td>{event.type === 'DELETE' ? '' : preview(event.kv.value)}</td>
                {prevKv && <td>{event.prevKv === undefined ? '' : preview(event.prevKv.value)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function preview(value: Uint8Array): string {
  const text = strictText(value) ?? `hex ${toHex(value.subarray(0, 48)).replaceAll('\n', ' ')}`;
  return text.length > valuePreviewMax ? `${text.slice(0, valuePreviewMax)}…` : text;
}
