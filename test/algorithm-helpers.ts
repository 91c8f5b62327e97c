import { type Box, type Category, generateImage, toPng } from '../bench/synthetic.ts';
import { decodeToTensor } from '../src/runtime/images/tensor.ts';

/** Synthetic pictures of `category`, one per seed, decoded the way the model will see them. */
export async function tensorsOf(
  category: Category,
  seeds: number[],
  spec: Parameters<typeof decodeToTensor>[1],
  size: number,
  defect = false,
) {
  return Promise.all(
    seeds.map(async (seed) => {
      const img = generateImage(category, { seed, size, defect: defect ? { kind: 'spot', size: 'large', contrast: 'high' } : null });
      return { img, tensor: (await decodeToTensor(await toPng(img), spec)).data };
    }),
  );
}

/** Pixels shared by a verdict box (max exclusive) and a ground-truth box (max inclusive). */
export const overlapArea = (box: Box, truth: Box) =>
  Math.max(0, Math.min(box.xMax, truth.xMax + 1) - Math.max(box.xMin, truth.xMin)) *
  Math.max(0, Math.min(box.yMax, truth.yMax + 1) - Math.max(box.yMin, truth.yMin));
