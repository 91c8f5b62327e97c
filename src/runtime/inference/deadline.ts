/**
 * `call`, or the error `expire()` gives once `ms` have passed (0: no deadline). onnxruntime's run
 * is native code nothing interrupts, so `expire` is where a caller gives up the thread that runs
 * it (and refuses the model): the session thread of a gateway, or of the shared inference process.
 */
export async function withDeadline<T>(call: Promise<T>, ms: number, expire: () => Error): Promise<T> {
  if (ms <= 0) return call;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expire()), ms);
  });
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
