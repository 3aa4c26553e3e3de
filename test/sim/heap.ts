/** A binary min-heap ordered by (at, seq): deterministic order for events due at the same time. */
export interface Timed {
  at: number;
  seq: number;
}

export class MinHeap<T extends Timed> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(this.at(i), this.at(p))) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined) return undefined;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(this.at(l), this.at(m))) m = l;
        if (r < a.length && less(this.at(r), this.at(m))) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }

  /** Item i, which the caller knows is in range (a heap index below the size). */
  private at(i: number): T {
    const item = this.items[i];
    if (item === undefined) throw new Error(`heap: index ${i} outside ${this.items.length} items`);
    return item;
  }

  private swap(i: number, j: number): void {
    const a = this.items;
    const x = this.at(i);
    a[i] = this.at(j);
    a[j] = x;
  }
}

function less(x: Timed, y: Timed): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}
