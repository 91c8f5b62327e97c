import { useState } from 'preact/hooks';
import { ExportModels, ImportModels } from '../graphql/operations.ts';
import { gql, gqlUpload } from '../client/api.ts';
import { can } from '../client/session.ts';
import { messageOf } from '../client/failure.ts';
import { count, time } from '../lib/format.ts';
import { reload } from '../state/load.ts';
import { notify } from '../state/notices.ts';
import { selected, target } from '../state/store.ts';

/** Ticked models out as one zip (a signed link); a zip of models in, with upload progress. */
export function ArchiveRow() {
  const [link, setLink] = useState<{ href: string; text: string } | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [status, setStatus] = useState<{ text: string; error: boolean }>({ text: '', error: false });
  const n = selected.value.size;

  async function exportSelected() {
    const ids = [...selected.value];
    setLink(null);
    try {
      const { exportModels } = await gql(ExportModels, { ids });
      setLink({ href: exportModels.url, text: `Download ${count(ids.length, 'model')} (zip; link valid until ${time(exportModels.expiresAt)})` });
    } catch (err) {
      notify('Could not export the models', err);
    }
  }

  async function importFile(input: HTMLInputElement) {
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    setProgress(0);
    setStatus({ text: `Uploading ${file.name}…`, error: false });
    try {
      const { importModels } = await gqlUpload(ImportModels, { targetId: target.value?.id ?? null, file: null }, { file }, (f) => {
        setProgress(f);
        // Everything sent: the gateway checks and stores the models now.
        setStatus({ text: f < 1 ? `Uploading ${file.name}… ${Math.round(f * 100)}%` : `Checking ${file.name}…`, error: false });
      });
      setStatus({ text: `Imported from ${file.name}: ${importModels.map((m) => m.name).join(', ')} (READY; activate when wanted)`, error: false });
      await reload();
    } catch (err) {
      setStatus({ text: `${file.name} was not imported (nothing changed): ${messageOf(err)}`, error: true });
    } finally {
      setProgress(null);
    }
  }

  return (
    <>
      <div class="row" id="archive-row" hidden={!can('TRAIN')}>
        <button
          id="export-models"
          type="button"
          class="small"
          disabled={n === 0}
          title="Tick models above, then export them as one zip"
          onClick={exportSelected}
        >
          {n ? `Export ${count(n, 'model')}` : 'Export selected'}
        </button>
        <a id="export-link" hidden={!link} download="models.zip" href={link?.href}>
          {link?.text ?? ''}
        </a>
        <label class="file-btn small" title="A zip made by Export (docs/model-archive.md)">
          Import models…
          <input type="file" id="import-file" accept=".zip,application/zip" onChange={(e) => void importFile(e.currentTarget)} />
        </label>
      </div>
      <div id="import-progress" class="progress" hidden={progress === null}>
        <i style={{ width: `${Math.round((progress ?? 0) * 100)}%` }}></i>
      </div>
      <p id="import-status" class={`reason${status.error ? ' error-text' : ''}`} role="status">
        {status.text}
      </p>
    </>
  );
}
