/**
 * Bytes that all inbound connections of one listener may hold for frames being received. Frames
 * reserve their announced length before their body is read, so an attacker announcing large frames
 * on many connections is refused up front instead of growing the heap.
 */
export class BufferBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Bytes reserved now. */
  get reserved(): number {
    return this.used;
  }

  /** Reserves `bytes`; false (nothing reserved) when fewer are left. */
  reserve(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /** Gives back what {@link reserve} took. */
  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}
