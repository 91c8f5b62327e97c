/**
 * A small circuit breaker: after `threshold` consecutive transport failures the upstream is
 * skipped for `coolDownMs` (calls fail at once instead of each waiting for a timeout); then one
 * trial call decides whether it closes again.
 */
export class Circuit {
  private failures = 0;
  private openedAt: number | null = null;
  private trialInFlight = false;

  private readonly threshold: number;
  private readonly coolDownMs: number;
  private readonly now: () => number;

  constructor(threshold = 3, coolDownMs = 10_000, now: () => number = Date.now) {
    this.threshold = threshold;
    this.coolDownMs = coolDownMs;
    this.now = now;
  }

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.openedAt === null) return 'closed';
    return this.now() - this.openedAt >= this.coolDownMs ? 'half-open' : 'open';
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Milliseconds until a trial call is allowed; 0 when calls may go now. */
  retryInMs(): number {
    if (this.openedAt === null) return 0;
    return Math.max(0, this.coolDownMs - (this.now() - this.openedAt));
  }

  /** True when a call may go out now; in half-open only one trial goes at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.openedAt = null;
    this.trialInFlight = false;
  }

  failure(): void {
    this.failures += 1;
    this.trialInFlight = false;
    if (this.failures >= this.threshold || this.openedAt !== null) this.openedAt = this.now();
  }
}
