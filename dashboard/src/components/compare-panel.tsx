import { useRef, useState } from 'preact/hooks';
import { fmt } from '../lib/format.ts';
import { auroc, confusion, scoresOf, type Confusion } from '../lib/scores.ts';
import { notify } from '../state/notices.ts';
import { models } from '../state/store.ts';
import type { Model } from '../state/types.ts';
import { Dialog } from './dialog.tsx';

interface Outcome {
  model: Model;
  c: Confusion;
  area: number | null;
}

/** Two READY models on the same labelled pictures, each at its own threshold; nothing stored. */
export function ComparePanel() {
  const ready = models.value.filter((m) => m.status === 'READY');
  const a = useRef<HTMLSelectElement>(null);
  const b = useRef<HTMLSelectElement>(null);
  const [out, setOut] = useState<Outcome[]>([]);
  const [busy, setBusy] = useState(false);

  async function run() {
    setOut([]);
    const chosen = [a.current!.value, b.current!.value].map((id) => models.value.find((m) => m.id === id)).filter((m): m is Model => !!m);
    setBusy(true);
    try {
      const done: Outcome[] = [];
      for (const m of chosen) {
        const scores = await scoresOf(m);
        done.push({ model: m, c: confusion(scores, m.predictParameters.threshold), area: auroc(scores) });
        setOut([...done]);
      }
    } catch (err) {
      notify('Could not compare the models', err);
    } finally {
      setBusy(false);
    }
  }

  const select = (id: string, label: string, index: number, ref: typeof a) => (
    <select id={id} ref={ref} aria-label={label}>
      {ready.map((m, i) => (
        <option key={m.id} value={m.id} selected={i === index}>
          {`${m.name} v${m.version}${m.active ? ' (active)' : ''}`}
        </option>
      ))}
    </select>
  );
  return (
    <Dialog id="compare" title="Compare two models on the labelled training pictures">
      <div class="row">
        {select('compare-a', 'First model', 0, a)}
        {select('compare-b', 'Second model', 1, b)}
        <button id="compare-run" type="button" class="primary" disabled={busy} onClick={run}>
          Compare
        </button>
      </div>
      <div id="compare-out" class="matrices">
        {out.map(({ model: m, c, area }, i) => (
          <div key={i} class="card">
            <h3>{`${m.name} v${m.version}`}</h3>
            <p class="muted small">{`AUROC ${area == null ? '– (needs OK and NG pictures)' : area.toFixed(3)} · threshold ${fmt(m.predictParameters.threshold)}`}</p>
            <table class="list">
              <thead>
                <tr>
                  <th></th>
                  <th>judged GOOD</th>
                  <th>judged BAD</th>
                </tr>
              </thead>
              <tbody>
                <tr>
                  <td>OK pictures</td>
                  <td class="num">{String(c.okPass)}</td>
                  <td class="num">{String(c.okReject)}</td>
                </tr>
                <tr>
                  <td>NG pictures</td>
                  <td class="num">{String(c.ngMissed)}</td>
                  <td class="num">{String(c.ngCaught)}</td>
                </tr>
              </tbody>
            </table>
          </div>
        ))}
      </div>
    </Dialog>
  );
}
