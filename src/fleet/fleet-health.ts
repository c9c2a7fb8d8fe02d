// Fleet counters for `status` and the metrics: connected, leases won, shared hits, rejected values, Redis errors.

export type RejectReason = 'invalid' | 'older' | 'wrong-type' | 'too-large';

export const REJECT_REASONS: readonly RejectReason[] = ['invalid', 'older', 'wrong-type', 'too-large'];

export interface FleetHealth {
  readonly connected: boolean;
  readonly leasesWon: number;
  readonly sharedHits: number;
  readonly rejected: Readonly<Record<RejectReason, number>>;
  readonly errors: number;
}

export class FleetHealthCounters {
  connected = false;
  leasesWon = 0;
  sharedHits = 0;
  errors = 0;
  readonly #rejected: Record<RejectReason, number> = { invalid: 0, older: 0, 'wrong-type': 0, 'too-large': 0 };

  reject(reason: RejectReason): void {
    this.#rejected[reason]++;
  }

  snapshot(): FleetHealth {
    return { connected: this.connected, leasesWon: this.leasesWon, sharedHits: this.sharedHits, rejected: { ...this.#rejected }, errors: this.errors };
  }
}
