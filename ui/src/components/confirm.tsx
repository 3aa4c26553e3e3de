// A modal question with Cancel and one action, on the browser's own <dialog>
// (focus kept inside it, Escape cancels). Cancel has the focus at first, so
// that Enter alone never deletes anything.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export interface ConfirmProps {
  title: string;
  children: ComponentChildren;
  action: string;
  /** Styles the action as destructive. */
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

export function Confirm({ title, children, action, danger, onConfirm, onCancel }: ConfirmProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // Focus goes back to what opened the dialog (the Save, Delete or Revoke button) when it goes.
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
    dialog.current?.showModal();
    cancel.current?.focus();
    return () => opener?.focus();
  }, []);
  return (
    <dialog ref={dialog} class="confirm" aria-labelledby="confirm-title" onCancel={(event) => { event.preventDefault(); onCancel(); }}>
      <h2 id="confirm-title">{title}</h2>
      <div class="confirm-body">{children}</div>
      <div class="actions">
        <button type="button" ref={cancel} onClick={onCancel}>Cancel</button>
        <button type="button" class={danger === true ? 'danger' : 'primary'} onClick={onConfirm}>{action}</button>
      </div>
    </dialog>
  );
}
