// Modal dialogs on the native <dialog>: showModal() gives focus trapping, inertness of the page
// behind it and Escape-to-close for free, which hand-rolled overlays tend to get wrong.
import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";

type Props = { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean; id?: string };

export function Dialog({ title, onClose, children, wide, id }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  // Layout effect: the dialog must be modal before the next keystroke, not after the next paint.
  useLayoutEffect(() => {
    const d = ref.current;
    if (!d) return undefined;
    const opener = document.activeElement as HTMLElement | null;
    d.showModal();
    // Escape fires "cancel": keep the element open and let the owner unmount it, so state and DOM agree.
    const onCancel = (e: Event) => {
      e.preventDefault();
      close.current();
    };
    d.addEventListener("cancel", onCancel);
    return () => {
      d.removeEventListener("cancel", onCancel);
      if (d.open) d.close();
      opener?.focus?.(); // give focus back to the button that opened it
    };
  }, []);
  const titleId = `${id ?? "dlg"}-title`;
  return (
    <dialog ref={ref} class={wide ? "dialog wide" : "dialog"} aria-labelledby={titleId} id={id}>
      <header class="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon-button" aria-label="Close" onClick={() => close.current()}>
          ×
        </button>
      </header>
      {children}
    </dialog>
  );
}

type ConfirmProps = { title: string; message: string; confirm: string; onConfirm: () => void; onCancel: () => void };

/** "Remove demoreg1?" The safe choice (Cancel) has focus, so a stray Enter does no harm. */
export function Confirm({ title, message, confirm, onConfirm, onCancel }: ConfirmProps) {
  return (
    <Dialog title={title} onClose={onCancel} id="confirm">
      <p class="dialog-body">{message}</p>
      <div class="dialog-actions">
        <button type="button" autofocus onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={onConfirm}>
          {confirm}
        </button>
      </div>
    </Dialog>
  );
}
