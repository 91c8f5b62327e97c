/**
 * Group commit: calls made in the same turn of the event loop, or while a write is in flight, are
 * written together, so N concurrent predictions cost about one transaction (one fsync), not N.
 * The write starts on `setImmediate`: the embedded store writes synchronously, so without that
 * pause nothing could join a group. `write` must answer one result per input, in order.
 */
export class GroupCommit<I, O> {
  private pending: { inputs: I[]; resolve: (o: O[]) => void; reject: (e: unknown) => void }[] = [];
  private busy = false;

  private readonly write: (inputs: I[]) => Promise<O[]>;

  constructor(write: (inputs: I[]) => Promise<O[]>) {
    this.write = write;
  }

  submit(inputs: I[]): Promise<O[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      this.pending.push({ inputs, resolve, reject });
      if (!this.busy) {
        this.busy = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending.splice(0);
      const all = group.flatMap((g) => g.inputs);
      try {
        const out = await this.write(all);
        if (out.length !== all.length) throw new Error(`write of ${all.length} answered ${out.length}`);
        let i = 0;
        for (const g of group) {
          g.resolve(out.slice(i, i + g.inputs.length));
          i += g.inputs.length;
        }
      } catch (err) {
        // One bad call must not fail the others gathered with it: retry each on its own.
        if (group.length === 1) group[0]!.reject(err);
        else {
          await Promise.all(
            group.map((g) =>
              this.write(g.inputs).then(
                (o) => g.resolve(o),
                (e) => g.reject(e),
              ),
            ),
          );
        }
      }
      // Let callers that became ready meanwhile join the next group.
      if (this.pending.length > 0) await new Promise((r) => setImmediate(r));
    }
    this.busy = false;
  }
}
