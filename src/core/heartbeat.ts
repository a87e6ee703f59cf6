/**
 * The client's heartbeat. A frozen relay or a dead network leaves a socket that looks open and
 * carries nothing, so silence is the only sign: after `ms` without a frame from the relay the
 * client pings; when another `ms` passes without any frame, the connection is declared lost.
 */
export class Heartbeat {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #heardAt = 0;
  #pinged = false;

  constructor(
    private readonly ms: number,
    private readonly ping: () => void,
    private readonly lost: () => void,
  ) {}

  /** The connection opened: listening starts now. */
  start(): void {
    this.heard();
    this.#arm(this.ms);
  }

  /** A frame came from the relay. */
  heard(): void {
    this.#heardAt = Date.now();
    this.#pinged = false;
  }

  /** The connection closed. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delay: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#check(), delay);
  }

  #check(): void {
    const silent = Date.now() - this.#heardAt;
    if (silent < this.ms) return this.#arm(this.ms - silent);
    if (!this.#pinged) {
      this.#pinged = true;
      this.ping();
      return this.#arm(this.ms);
    }
    this.stop();
    this.lost();
  }
}
