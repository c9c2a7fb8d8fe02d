// An in-memory FleetRedis for unit tests: the same contract as src/fleet/redis-client.ts (leases with expiry, the
// never-older publish, pub/sub), plus switches for an outage and a record of what was published.
import type { FleetRedis, SharedRead } from '../../src/fleet/fleet-redis.js';

interface Entry {
  value: string | { der: Uint8Array; thisUpdateMs: number };
  expiresAtMs?: number;
}

export class FakeFleetRedis implements FleetRedis {
  readonly entries = new Map<string, Entry>();
  readonly published: { channel: string; message: string }[] = [];
  /** While set, every command rejects with it (Redis down). */
  failure: Error | undefined;
  readonly #subscribers: { channel: string; onMessage: (message: string) => void }[] = [];

  #live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAtMs !== undefined && entry.expiresAtMs <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #check(): void {
    if (this.failure) throw this.failure;
  }

  async readStaple(key: string, maxBytes: number): Promise<SharedRead> {
    this.#check();
    const entry = this.#live(key);
    if (!entry) return { kind: 'none' };
    if (typeof entry.value === 'string') return { kind: 'wrong-type' };
    if (entry.value.der.length > maxBytes) return { kind: 'too-large' };
    return { kind: 'value', der: entry.value.der };
  }

  async publishStaple(key: string, der: Uint8Array, thisUpdateMs: number, expireAtMs: number, replace: boolean): Promise<boolean> {
    this.#check();
    const old = this.#live(key);
    if (!replace && old && typeof old.value !== 'string' && old.value.thisUpdateMs >= thisUpdateMs) return false;
    this.entries.set(key, { value: { der, thisUpdateMs }, expiresAtMs: expireAtMs });
    return true;
  }

  async takeLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    this.#check();
    if (this.#live(key)) return false;
    this.entries.set(key, { value: token, expiresAtMs: Date.now() + ttlMs });
    return true;
  }

  async releaseLease(key: string, token: string): Promise<void> {
    this.#check();
    if (this.#live(key)?.value === token) this.entries.delete(key);
  }

  async readText(key: string, maxBytes: number): Promise<string | undefined> {
    this.#check();
    const value = this.#live(key)?.value;
    return typeof value === 'string' && value.length <= maxBytes ? value : undefined;
  }

  async writeText(key: string, value: string, ttlMs: number): Promise<void> {
    this.#check();
    this.entries.set(key, { value, expiresAtMs: Date.now() + ttlMs });
  }

  async publish(channel: string, message: string): Promise<void> {
    this.#check();
    this.published.push({ channel, message });
    for (const subscriber of this.#subscribers) if (subscriber.channel === channel) setImmediate(() => subscriber.onMessage(message));
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<void> {
    this.#check();
    this.#subscribers.push({ channel, onMessage });
  }

  async waitUntilReady(): Promise<boolean> {
    return this.failure === undefined;
  }

  lastConnectionError(): Error | undefined {
    return this.failure;
  }

  onReady(): void {}

  async close(): Promise<void> {}
}
