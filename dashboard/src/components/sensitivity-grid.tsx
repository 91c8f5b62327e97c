import type { Probe } from '../lib/scores.ts';
import { caught } from '../lib/scores.ts';

const CONTRASTS = [1, 2, 4];

/** A cell's colour: from red (nothing caught) through amber to green (everything caught). */
const hue = (rate: number) => `hsl(${Math.round(rate * 120)} 55% 32%)`;

/**
 * What a model catches at a threshold: synthetic spots and scratches of graded size and contrast,
 * painted into training pictures its held-out folds never learnt from. A row per defect, a column
 * per contrast; each cell says how many of its probes the threshold catches (boxes on them).
 */
export function SensitivityGrid({ probes, threshold }: { probes: Probe[]; threshold: number }) {
  const rows = [...new Set(probes.map((p) => `${p.kind} ${p.size}`))];
  const label = (key: string) => {
    const [kind, size] = key.split(' ');
    return kind === 'SPOT' ? `Spot, ${size} % of the picture` : `Scratch across ${size} % of the picture`;
  };
  return (
    <table id="tune-sensitivity" class="sensitivity">
      <thead>
        <tr>
          <th>What it catches</th>
          {CONTRASTS.map((c) => (
            <th key={c}>{`${c}σ`}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((key) => (
          <tr key={key}>
            <th>{label(key)}</th>
            {CONTRASTS.map((c) => {
              const p = probes.find((x) => `${x.kind} ${x.size}` === key && x.contrast === c);
              if (!p) return <td key={c} />;
              const n = caught(p, threshold);
              return (
                <td key={c} style={{ background: hue(n / Math.max(1, p.scores.length)) }} title={`${n} of ${p.scores.length} caught (a box on them)`}>
                  {`${n}/${p.scores.length}`}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
