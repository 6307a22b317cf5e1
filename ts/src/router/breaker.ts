/**
 * A circuit breaker per node. Closed: the node gets work. After one failure the node is suspect
 * and gets only a one-item probe until it answers again; after `failureThreshold` failures in a
 * row it opens and gets nothing for a cooldown that doubles with every reopening (up to
 * `maxCooldownMs`). When the cooldown ends it is half-open: one probe of one item decides whether
 * it closes or opens again.
 */

/** The breaker's state as reported by `stats()`. */
export type BreakerState = 'closed' | 'suspect' | 'open' | 'half-open';

/** Tuning of the circuit breaker. */
export interface BreakerOptions {
  /** Failures in a row that take a node out (default 2). */
  failureThreshold?: number;
  /** First time out, in ms (default 5000). */
  cooldownMs?: number;
  /** Longest time out, in ms (default 60000). */
  maxCooldownMs?: number;
}

/** One node's circuit breaker; time is passed in, so it runs as well on a simulated clock. */
export class CircuitBreaker {
  #failures = 0;
  #opens = 0;
  #openUntil = 0;
  #probing = false;
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #maxCooldownMs: number;

  constructor(options: BreakerOptions = {}) {
    this.#threshold = options.failureThreshold ?? 2;
    this.#cooldownMs = options.cooldownMs ?? 5000;
    this.#maxCooldownMs = options.maxCooldownMs ?? 60_000;
  }

  /** The state at time `now`. */
  state(now: number): BreakerState {
    if (this.#failures >= this.#threshold) return now >= this.#openUntil ? 'half-open' : 'open';
    return this.#failures > 0 ? 'suspect' : 'closed';
  }

  /** True when the node may get a full share of work. */
  isClosed(): boolean {
    return this.#failures === 0;
  }

  /** True when the node may get a one-item probe now (suspect, or half-open with no probe out). */
  mayProbe(now: number): boolean {
    const state = this.state(now);
    return (state === 'suspect' || state === 'half-open') && !this.#probing;
  }

  /** When an open breaker lets a probe through, or undefined when it is not open. */
  reopensAt(now: number): number | undefined {
    return this.state(now) === 'open' ? this.#openUntil : undefined;
  }

  /** A probe was sent. */
  probeSent(): void {
    this.#probing = true;
  }

  /** A call answered. */
  succeeded(): void {
    this.#failures = 0;
    this.#opens = 0;
    this.#probing = false;
  }

  /** A call failed at time `now`. */
  failed(now: number): void {
    this.#probing = false;
    this.#failures += 1;
    if (this.#failures >= this.#threshold) {
      const cooldown = Math.min(this.#maxCooldownMs, this.#cooldownMs * 2 ** this.#opens);
      this.#opens += 1;
      this.#openUntil = now + cooldown;
    }
  }
}
