/**
 * A least-recently-used map bounded by a total cost (bytes). An entry larger than the bound is
 * still kept (alone) so that the newest thing always fits; `onEvict` sees what was pushed out.
 */
export class CostLru<K, V> {
  private readonly entries = new Map<K, { value: V; cost: number }>();
  private total = 0;

  private readonly maxCost: number;
  private readonly onEvict: (key: K, value: V) => void;

  constructor(maxCost: number, onEvict: (key: K, value: V) => void = () => {}) {
    this.maxCost = maxCost;
    this.onEvict = onEvict;
  }

  get(key: K): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    // Re-insert: Map iteration order is insertion order, oldest first.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: K, value: V, cost: number): void {
    this.delete(key);
    this.entries.set(key, { value, cost });
    this.total += cost;
    for (const [k, e] of this.entries) {
      if (this.total <= this.maxCost || this.entries.size <= 1) break;
      if (k === key) continue;
      this.entries.delete(k);
      this.total -= e.cost;
      this.onEvict(k, e.value);
    }
  }

  delete(key: K): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    this.total -= e.cost;
    return e.value;
  }

  /** Forgets everything without calling onEvict (what it held is gone already). */
  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get cost(): number {
    return this.total;
  }

  values(): V[] {
    return [...this.entries.values()].map((e) => e.value);
  }
}
