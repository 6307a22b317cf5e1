/** A progress bar on stderr, drawn only when stderr is a TTY. */
export class ProgressBar {
  private readonly tty: boolean;
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  /** Shows progress `done` of `total` (redrawn at most 20 times a second); `total` may grow. */
  update(done: number, total = this.total): void {
    this.total = total;
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 50 && done < this.total) return;
    this.lastDraw = now;
    const width = 30;
    const share = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const filled = Math.round(share * width);
    this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%`);
  }

  /** Clears the bar. */
  done(): void {
    if (this.tty) this.stream.write('\r\x1b[2K');
  }
}

/**
 * Elapsed time of a step whose progress cannot be counted (a probe, a native call on another
 * thread), redrawn on stderr five times a second, only when stderr is a TTY.
 */
export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private started = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  /** Shows `label` and the time since now; replaces whatever step was shown. */
  start(label: string): void {
    this.stop();
    if (!this.stream.isTTY) return;
    this.started = performance.now();
    const draw = () => this.stream.write(`\r\x1b[2K${label} ${((performance.now() - this.started) / 1000).toFixed(1)} s`);
    draw();
    this.timer = setInterval(draw, 200).unref();
  }

  /** Clears the line. */
  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.stream.write('\r\x1b[2K');
  }
}
