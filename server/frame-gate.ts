/**
 * A connection's frames held while its token is verified: the frames a client sends right
 * behind its token (or behind a refreshed one) must run under the verdict, in order, or not at
 * all. What waits sits in memory, so a bounded number of frames and bytes may wait; past that
 * the connection is flooding.
 */
export class FrameGate {
  #gate: Promise<void> | undefined;
  #frames = 0;
  #bytes = 0;

  constructor(
    private readonly maxFrames: number,
    private readonly maxBytes: number,
  ) {}

  /** Whether a verification is running (frames must wait for it). */
  get holding(): boolean {
    return this.#gate !== undefined;
  }

  /** Makes the frames that arrive while `verification` runs wait for it; lifted once it settles. */
  hold(verification: Promise<void>): Promise<void> {
    const gate: Promise<void> = verification.finally(() => {
      if (this.#gate === gate) this.#gate = undefined;
    });
    this.#gate = gate;
    return gate;
  }

  /** The verification frames wait for now, if any. */
  get current(): Promise<void> | undefined {
    return this.#gate;
  }

  /**
   * Takes a place for a frame of `size` bytes that is about to wait; false, and nothing taken,
   * when the frame would pass the bound. (The wait itself stays in the caller: awaited from
   * there, a refresh that arrives meanwhile is in place before the next frame looks.)
   */
  admit(size: number): boolean {
    if (this.#frames >= this.maxFrames || this.#bytes + size > this.maxBytes) return false;
    this.#frames += 1;
    this.#bytes += size;
    return true;
  }

  /** Gives back the place of a frame that is done waiting. */
  release(size: number): void {
    this.#frames -= 1;
    this.#bytes -= size;
  }
}
