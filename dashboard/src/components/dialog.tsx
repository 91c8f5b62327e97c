import type { ComponentChildren } from 'preact';
import { panel } from '../state/store.ts';

const close = () => {
  panel.value = null;
};

/** A dialog over the page: closes on ✕, on a click beside it, and on Escape (app.tsx). */
export function Dialog({ id, title, children }: { id: string; title: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions lint/a11y/useKeyWithClickEvents: a click beside the dialog closes it; from the keyboard, Escape or ✕ do
    <div
      id={id}
      class="panel"
      onClick={(e) => {
        if (e.target === e.currentTarget) close();
      }}
    >
      <div class="panel-box" role="dialog" aria-modal="true" aria-labelledby={`${id}-title`}>
        <header>
          <strong id={`${id}-title`}>{title}</strong>
          <span class="spacer"></span>
          <button type="button" class="ghost" data-close aria-label="Close" onClick={close}>
            ✕
          </button>
        </header>
        {children}
      </div>
    </div>
  );
}
