/**
 * Group commit: calls arriving while a write is in flight are gathered and written together by
 * the next one, so N concurrent predictions cost about one transaction, not N. `write` must answer
 * one result per input, in order.
 */
export class GroupCommit<I, O> {
  private pending: { inputs: I[]; resolve: (o: O[]) => void; reject: (e: unknown) => void }[] = [];
  private writing = false;

  constructor(private readonly write: (inputs: I[]) => Promise<O[]>) {}

  submit(inputs: I[]): Promise<O[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      this.pending.push({ inputs, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
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
    }
    this.writing = false;
  }
}
