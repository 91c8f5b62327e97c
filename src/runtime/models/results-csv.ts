import type { Store } from '../store/store.ts';
import type { ModelRecord } from '../store/types.ts';

export const RESULT_COLUMNS = [
  'model_id',
  'model_name',
  'model_version',
  'assessment_id',
  'item_id',
  'item_name',
  'result',
  'score',
  'threshold',
  'detected_objects',
  'detection_accuracy',
  'label',
  'boxes',
  'created_at',
] as const;

/**
 * A CSV cell (RFC 4180). Text that a spreadsheet would run as a formula (= + - @ at the start) is
 * prefixed with a quote mark: item names come from uploaded file names.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * The models' assessments, one row each, newest first per model. `boxes` lists the detected
 * boxes as `xMin yMin xMax yMax score` groups separated by `;`, in original-image pixels.
 */
export async function resultsCsv(store: Store, models: readonly ModelRecord[]): Promise<Buffer> {
  const assessments = await store.assessmentsByModelIds(models.map((m) => m.id));
  const [items, boxes] = await Promise.all([
    store.itemsByIds([...new Set(assessments.map((a) => a.itemId))]),
    store.annotationsByOwners(
      'assessment',
      assessments.map((a) => a.id),
    ),
  ]);
  const itemName = new Map(items.map((i) => [i.id, i.name]));
  const modelOf = new Map(models.map((m) => [m.id, m]));
  const boxesOf = new Map<string, string[]>();
  for (const b of boxes) {
    const list = boxesOf.get(b.ownerId) ?? [];
    list.push([b.xMin, b.yMin, b.xMax, b.yMax, b.score].map((v) => (v === null ? '' : +v.toFixed(4))).join(' '));
    boxesOf.set(b.ownerId, list);
  }
  const order = new Map(models.map((m, i) => [m.id, i]));
  assessments.sort((a, b) => order.get(a.modelId)! - order.get(b.modelId)! || b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  const lines = [RESULT_COLUMNS.join(',')];
  for (const a of assessments) {
    const m = modelOf.get(a.modelId)!;
    lines.push(
      [
        m.id,
        m.name,
        m.version,
        a.id,
        a.itemId,
        itemName.get(a.itemId) ?? null,
        a.result,
        a.score,
        a.threshold,
        a.detectedObjects,
        a.detectionAccuracy,
        a.label,
        (boxesOf.get(a.id) ?? []).join(';'),
        a.createdAt,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return Buffer.from(lines.join('\r\n') + '\r\n', 'utf8');
}
