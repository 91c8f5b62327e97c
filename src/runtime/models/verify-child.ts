import { verifyOnnx } from './verify-onnx.ts';

/**
 * The model check of an import, in a process of its own (verify-isolated.ts): a hostile graph
 * (a Loop of 1e12 trips, an allocation of gigabytes) can only hang or bloat this process, which
 * the gateway kills at its budget. Argument: JSON `{ path, spec, provider, label }`. Writes its
 * pid, then one JSON line `{ ok }` or `{ ok: false, message }`, on stdout.
 */
const task = JSON.parse(process.argv[2]!) as { path: string; spec: Parameters<typeof verifyOnnx>[1]; provider: 'cpu' | 'cuda'; label: string };
process.stdout.write(`${JSON.stringify({ pid: process.pid })}\n`);
try {
  await verifyOnnx(task.path, task.spec, task.provider, task.label);
  process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ ok: false, message: (err as Error).message })}\n`);
}
process.exit(0);
