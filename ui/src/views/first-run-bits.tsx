// Pieces the first-run guide's steps share.
import type { ComponentChildren } from "preact";

/** Escape's handler for the step on screen; returns whether Escape did something. */
export type EscapeRef = { current: () => boolean };

/** A step's buttons: Back on the left, the way forward on the right. */
export function StepActions({ children, onBack }: { children: ComponentChildren; onBack?: () => void }) {
  return (
    <div class="guide-actions">
      {onBack && (
        <button type="button" onClick={onBack} id="guide-back">
          Back
        </button>
      )}
      <span class="grow" />
      {children}
    </div>
  );
}
