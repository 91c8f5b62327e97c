import { dismiss, notices } from '../state/notices.ts';

export function Notices() {
  return (
    <div id="notices" class="notices" aria-live="polite">
      {notices.value.map((n) => (
        <div key={n.key} class={`notice ${n.kind}`} data-key={n.key}>
          <div class="text">
            <div>{n.text}</div>
            {n.lines.map((e, i) => (
              <div key={i} class="small">
                {e.message}
                {e.extensions?.code ? <code>{e.extensions.code}</code> : null}
              </div>
            ))}
          </div>
          <button type="button" aria-label="Dismiss" onClick={() => dismiss(n.key)}>
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}
