/**
 * Wall-clock milliseconds with sub-millisecond precision, comparable across worker threads (each
 * thread has its own `performance.timeOrigin`): how the inference worker reports when things
 * happened, for the metrics and spans the main thread records.
 */
export const epochMs = (): number => performance.timeOrigin + performance.now();
