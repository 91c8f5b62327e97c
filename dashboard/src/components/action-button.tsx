import { useState } from 'preact/hooks';

/** A small button that stays disabled while its action runs. */
export function ActionButton({ label, onClick }: { label: string; onClick: () => unknown }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      class="small"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        try {
          await onClick();
        } finally {
          setBusy(false);
        }
      }}
    >
      {label}
    </button>
  );
}
