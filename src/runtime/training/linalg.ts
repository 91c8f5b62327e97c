import { EigenvalueDecomposition, Matrix, QrDecomposition } from 'ml-matrix';
import { GraphBuilder } from '../onnx/index.ts';
import { gaussian, rng } from './algorithms/random.ts';
import { runOnce } from './ort.ts';

/** Mean and covariance of n rows of dimension d, the product done by onnxruntime (MLAS GEMM). */
export async function meanAndCovariance(rows: Float32Array, n: number, d: number): Promise<{ mean: Float32Array; cov: Float32Array }> {
  const g = new GraphBuilder('covariance');
  const x = g.input('rows', [n, d]);
  const mean = g.op('ReduceMean', [x], { axes: [0], keepdims: 1 });
  const centred = g.op('Sub', [x, mean]);
  const cov = g.op('Mul', [g.op('MatMul', [g.op('Transpose', [centred], { perm: [1, 0] }), centred]), g.scalar(1 / Math.max(1, n - 1))]);
  g.output(mean, 'mean', [1, d]);
  g.output(cov, 'cov', [d, d]);
  const out = await runOnce(g.toBytes(), { rows: { data: rows, dims: [n, d] } });
  return { mean: out.mean!, cov: out.cov! };
}

/**
 * The top-k eigenpairs of a symmetric d x d matrix by subspace iteration (`iterations` rounds of
 * multiply + QR on k + 8 vectors, then Rayleigh-Ritz). Much cheaper than a full decomposition
 * when k << d.
 */
export function topEigen(cov: Float32Array, d: number, k: number, iterations: number, seed = 1): { values: Float32Array; vectors: Float32Array } {
  const C = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) C.set(i, j, cov[i * d + j]!);
  const b = Math.min(d, k + 8);
  const r = rng(seed);
  let Q = new Matrix(d, b);
  for (let i = 0; i < d; i++) for (let j = 0; j < b; j++) Q.set(i, j, gaussian(r));
  Q = new QrDecomposition(Q).orthogonalMatrix.subMatrix(0, d - 1, 0, b - 1);
  for (let it = 0; it < Math.max(1, iterations); it++) {
    Q = new QrDecomposition(C.mmul(Q)).orthogonalMatrix.subMatrix(0, d - 1, 0, b - 1);
  }
  const small = Q.transpose().mmul(C).mmul(Q);
  const evd = new EigenvalueDecomposition(small, { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((_, i) => i).sort((p, q) => evd.realEigenvalues[q]! - evd.realEigenvalues[p]!);
  const V = Q.mmul(evd.eigenvectorMatrix);
  const kk = Math.min(k, b);
  const values = new Float32Array(kk);
  const vectors = new Float32Array(kk * d);
  for (let c = 0; c < kk; c++) {
    const idx = order[c]!;
    values[c] = evd.realEigenvalues[idx]!;
    for (let j = 0; j < d; j++) vectors[c * d + j] = V.get(j, idx);
  }
  return { values, vectors };
}
