// One key: its revisions, version and lease, its value in an editor, and
// saving or deleting it — each a transaction guarded by the revision the
// user saw (kv.ts), after a confirmation. A change made elsewhere while the
// page is open shows at once; over an unsaved edit it shows as a notice.
import { useEffect, useState } from 'preact/hooks';
import { displayText, equal, strictText, toBase64, toHex, utf8 } from '../bytes.js';
import { errorText } from '../errors.js';
import type { KeyValue } from '../gateway.js';
import { deleteIfUnchanged, get, putIfUnchanged } from '../kv.js';
import { leaseHex } from '../leases.js';
import { hashOf } from '../routes.js';
import { formatOf, parse, show, showable, valueFormats, type ValueFormat } from '../value-format.js';
import { Confirm } from './confirm.js';
import { KeyHistory } from './key-history.js';

/** The newest the live watch knows of a key: its key-value, or undefined once deleted at `revision`. */
export interface KeyUpdate {
  readonly key: Uint8Array;
  readonly kv: KeyValue | undefined;
  readonly revision: bigint;
}

/** `linkParams`: what the page's links carry (the tree's root). */
export type KeyPanelProps = { mode: 'view'; keyBytes: Uint8Array; update: KeyUpdate | undefined } | { mode: 'create'; keyPrefix: string; linkParams: Record<string, string> };

export function KeyPanel(props: KeyPanelProps) {
  return props.mode === 'create' ? <CreateKey prefix={props.keyPrefix} linkParams={props.linkParams} /> : <ViewKey keyBytes={props.keyBytes} update={props.update} />;
}

type Loaded = { readonly kv: KeyValue | undefined; readonly revision: bigint };

function ViewKey({ keyBytes, update }: { keyBytes: Uint8Array; update: KeyUpdate | undefined }) {
  const [loaded, setLoaded] = useState<Loaded | undefined>(undefined);
  const [format, setFormat] = useState<ValueFormat>('text');
  const [draft, setDraft] = useState<string | undefined>(undefined);
  const [changedElsewhere, setChangedElsewhere] = useState<bigint | undefined>(undefined);
  const [asking, setAsking] = useState<'save' | 'delete' | undefined>(undefined);
  const [message, setMessage] = useState<{ kind: 'error' | 'done'; text: string } | undefined>(undefined);
  const [showHistory, setShowHistory] = useState(false);

  const reload = async (): Promise<void> => {
    try {
      const found = await get(keyBytes);
      setLoaded({ kv: found.kv, revision: found.kv?.modRevision ?? found.revision });
      if (found.kv !== undefined) setFormat(formatOf(found.kv.value));
      setDraft(undefined);
      setChangedElsewhere(undefined);
    } catch (failure) {
      setMessage({ kind: 'error', text: errorText(failure) });
    }
  };
  useEffect(() => {
    void reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    if (update === undefined || loaded === undefined || !equal(update.key, keyBytes) || update.revision <= loaded.revision) return;
    if (draft !== undefined) setChangedElsewhere(update.revision);
    else setLoaded({ kv: update.kv, revision: update.revision });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [update]);

  if (loaded === undefined) return message === undefined ? <p class="loading">Loading…</p> : <p class="error" role="alert">{message.text}</p>;
  const kv = loaded.kv;
  const shown = kv === undefined ? '' : show(kv.value, format);
  const text = draft ?? shown;
  const parsed = parse(text, format);
  const dirty = draft !== undefined && draft !== shown;

  const changeFormat = (next: ValueFormat): void => {
    if (!parsed.ok) return setMessage({ kind: 'error', text: `Fix the value before showing it as ${next}: ${parsed.problem}` });
    if (!showable(parsed.value, next)) return setMessage({ kind: 'error', text: `These bytes are not UTF-8 text: edit them as hex.` });
    setFormat(next);
    setDraft(dirty ? show(parsed.value, next) : undefined);
    setMessage(undefined);
  };

  const save = async (): Promise<void> => {
    setAsking(undefined);
    if (!parsed.ok || kv === undefined) return;
    try {
      const written = await putIfUnchanged(keyBytes, parsed.value, kv.modRevision, kv.lease !== 0n);
      if (!written.succeeded) return conflict();
      setMessage({ kind: 'done', text: `Saved at revision ${written.revision}.` });
      await reload();
    } catch (failure) {
      setMessage({ kind: 'error', text: errorText(failure) });
    }
  };

  const remove = async (): Promise<void> => {
    setAsking(undefined);
    if (kv === undefined) return;
    try {
      const written = await deleteIfUnchanged(keyBytes, kv.modRevision);
      if (!written.succeeded) return conflict();
      setLoaded({ kv: undefined, revision: written.revision });
      setDraft(undefined);
      setMessage({ kind: 'done', text: `Deleted at revision ${written.revision}.` });
    } catch (failure) {
      setMessage({ kind: 'error', text: errorText(failure) });
    }
  };

  const conflict = async (): Promise<void> => {
    await reload();
    setMessage({ kind: 'error', text: 'Not written: the key changed since you opened it. Its current value is shown.' });
  };

  const keyText = strictText(keyBytes);
  return (
    <article class="key-panel">
      <h2 class="key-name">{displayText(keyBytes)}</h2>
      {keyText === undefined && <p class="key-hex">Key bytes: <code>{toHex(keyBytes)}</code></p>}
      {kv === undefined ? (
        <p class="absent">This key does not exist{loaded.revision > 0n ? ` (as of revision ${loaded.revision})` : ''}.</p>
      ) : (
        <>
          <KeyMeta kv={kv} />
          <FormatChoice legend="Show as" name="format" format={format} onChange={changeFormat} />
          <label class="value-label" for="value">Value</label>
          <textarea id="value" class="value" spellcheck={false} value={text} onInput={(event) => setDraft((event.target as HTMLTextAreaElement).value)} aria-describedby="value-problem" />
          <p id="value-problem" class="problem" aria-live="polite">{parsed.ok ? (format === 'json' ? 'Valid JSON.' : '') : parsed.problem}</p>
          {changedElsewhere !== undefined && (
            <p class="notice" role="status">
              This key changed at revision {String(changedElsewhere)} while you were editing; saving will be refused.{' '}
              <button type="button" onClick={() => void reload()}>Discard my edit and reload</button>
            </p>
          )}
          <div class="actions">
            <button type="button" class="primary" disabled={!dirty || !parsed.ok} onClick={() => setAsking('save')}>Save</button>
            <button type="button" disabled={!dirty} onClick={() => setDraft(undefined)}>Revert</button>
            <button type="button" class="danger" onClick={() => setAsking('delete')}>Delete</button>
            <button type="button" aria-expanded={showHistory} onClick={() => setShowHistory(!showHistory)}>History</button>
            <a class="button" href={hashOf('watch', { key: toBase64(keyBytes) })}>Watch</a>
          </div>
        </>
      )}
      {message !== undefined && <p class={message.kind === 'error' ? 'error' : 'done'} role={message.kind === 'error' ? 'alert' : 'status'}>{message.text}</p>}
      {showHistory && kv !== undefined && <KeyHistory key={String(kv.modRevision)} current={kv} />}
      {asking === 'save' && parsed.ok && kv !== undefined && (
        <Confirm title="Save this value?" action="Save" onConfirm={() => void save()} onCancel={() => setAsking(undefined)}>
          <p>
            <strong>{displayText(keyBytes)}</strong> gets {parsed.value.length} bytes in place of the value of revision {String(kv.modRevision)}
            {kv.lease !== 0n ? ', and keeps its lease' : ''}.
          </p>
        </Confirm>
      )}
      {asking === 'delete' && kv !== undefined && (
        <Confirm title="Delete this key?" action="Delete" danger onConfirm={() => void remove()} onCancel={() => setAsking(undefined)}>
          <p><strong>{displayText(keyBytes)}</strong> (version {String(kv.version)}) is deleted. Its history stays until the next compaction.</p>
        </Confirm>
      )}
    </article>
  );
}

function KeyMeta({ kv }: { kv: KeyValue }) {
  return (
    <dl class="meta">
      <div><dt>Create revision</dt><dd>{String(kv.createRevision)}</dd></div>
      <div><dt>Mod revision</dt><dd>{String(kv.modRevision)}</dd></div>
      <div><dt>Version</dt><dd>{String(kv.version)}</dd></div>
      <div><dt>Lease</dt><dd>{kv.lease === 0n ? 'none' : <a href={hashOf('leases', { lease: leaseHex(kv.lease) })}>{leaseHex(kv.lease)}</a>}</dd></div>
      <div><dt>Size</dt><dd>{kv.value.length} bytes</dd></div>
    </dl>
  );
}

/** Text, JSON or hex: radio buttons in a fieldset named by `legend`. */
function FormatChoice({ legend, name, format, onChange }: { legend: string; name: string; format: ValueFormat; onChange: (format: ValueFormat) => void }) {
  return (
    <fieldset class="formats">
      <legend>{legend}</legend>
      {valueFormats.map(({ format: candidate, label }) => (
        <label key={candidate}>
          <input type="radio" name={name} value={candidate} checked={format === candidate} onChange={() => onChange(candidate)} /> {label}
        </label>
      ))}
    </fieldset>
  );
}

function CreateKey({ prefix, linkParams }: { prefix: string; linkParams: Record<string, string> }) {
  const [keyText, setKeyText] = useState(prefix);
  const [format, setFormat] = useState<ValueFormat>('text');
  const [text, setText] = useState('');
  const [asking, setAsking] = useState(false);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const parsed = parse(text, format);
  const keyProblem = keyText === '' ? 'A key cannot be empty.' : undefined;

  const create = async (): Promise<void> => {
    setAsking(false);
    if (!parsed.ok) return;
    const key = utf8(keyText);
    try {
      const written = await putIfUnchanged(key, parsed.value, 0n, false);
      if (!written.succeeded) return setMessage('Not created: a key by this name exists already.');
      location.hash = hashOf('keys', { ...linkParams, key: toBase64(key) });
    } catch (failure) {
      setMessage(errorText(failure));
    }
  };

  return (
    <form class="key-panel" onSubmit={(event) => { event.preventDefault(); if (keyProblem === undefined && parsed.ok) setAsking(true); }}>
      <h2>New key</h2>
      <label for="new-key">Key</label>
      <input id="new-key" class="key-input" value={keyText} spellcheck={false} onInput={(event) => setKeyText((event.target as HTMLInputElement).value)} />
      <FormatChoice legend="Value as" name="new-format" format={format} onChange={setFormat} />
      <label class="value-label" for="new-value">Value</label>
      <textarea id="new-value" class="value" spellcheck={false} value={text} onInput={(event) => setText((event.target as HTMLTextAreaElement).value)} aria-describedby="new-value-problem" />
      <p id="new-value-problem" class="problem" aria-live="polite">{keyProblem ?? (parsed.ok ? '' : parsed.problem)}</p>
      <div class="actions">
        <button type="submit" class="primary" disabled={keyProblem !== undefined || !parsed.ok}>Create</button>
        <a class="button" href={hashOf('keys', linkParams)}>Cancel</a>
      </div>
      {message !== undefined && <p class="error" role="alert">{message}</p>}
      {asking && parsed.ok && (
        <Confirm title="Create this key?" action="Create" onConfirm={() => void create()} onCancel={() => setAsking(false)}>
          <p><strong>{keyText}</strong> is created with {parsed.value.length} bytes, unless it exists already.</p>
        </Confirm>
      )}
    </form>
  );
}
