/**
 * Where the records that ran through processors came from, in batch order: each as its raw position and KPL user
 * record (its index among the user records its raw record decoded to, -1 for other records). Kept as runs, not a
 * pair of numbers per record: records that ran one after the other are usually the next raw record, or the next user
 * record of the same aggregate, so a batch of 10,000 aggregates keeps 10,000 runs rather than 100,000 pairs until
 * its sinks ran.
 */
export class RanRecords {
  private count = 0;
  /** Per run: the index (among the records that ran) of its first record, its raw position and its user record. */
  private readonly starts: number[] = [];
  private readonly positions: number[] = [];
  private readonly userRecords: number[] = [];

  get length(): number {
    return this.count;
  }

  /** Adds the next record that ran; returns its index among them. */
  push(position: number, userRecord: number): number {
    const last = this.starts.length - 1;
    if (last >= 0) {
      const offset = this.count - this.starts[last];
      const continuesRun =
        userRecord === -1
          ? this.userRecords[last] === -1 && position === this.positions[last] + offset
          : position === this.positions[last] && userRecord === this.userRecords[last] + offset;
      if (continuesRun) return this.count++;
    }
    this.starts.push(this.count);
    this.positions.push(position);
    this.userRecords.push(userRecord);
    return this.count++;
  }

  /** The raw position of the record at `index`. */
  position(index: number): number {
    const run = this.runOf(index);
    return this.userRecords[run] === -1 ? this.positions[run] + index - this.starts[run] : this.positions[run];
  }

  /** The user record (index among its raw record's) of the record at `index`, -1 when it is not a KPL user record. */
  userRecord(index: number): number {
    const run = this.runOf(index);
    const first = this.userRecords[run];
    return first === -1 ? -1 : first + index - this.starts[run];
  }

  /** The last run starting at or before `index`. */
  private runOf(index: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle] <= index) low = middle;
      else high = middle - 1;
    }
    return low;
  }
}
