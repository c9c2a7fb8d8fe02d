// The few Redis operations fleet mode needs, as an interface of our own: redis-client.ts implements it with ioredis,
// unit tests pass an in-memory fake. Every value read through it is untrusted (docs/fleet.md, "Security").

/** What a read of the shared staple key found; the size cap and the type check run inside Redis (one Lua call). */
export type SharedRead =
  | { readonly kind: 'none' }
  | { readonly kind: 'value'; readonly der: Uint8Array }
  /** Not a hash as staplerd writes it (another program's key, or tampering). */
  | { readonly kind: 'wrong-type' }
  /** Larger than the cap: never transferred. */
  | { readonly kind: 'too-large' };

export interface FleetRedis {
  readStaple(key: string, maxBytes: number): Promise<SharedRead>;
  /**
   * Stores the DER with its thisUpdate beside it, expiring at `expireAt`, unless the key holds a value with a later or
   * equal thisUpdate (`replace` overrides that: the caller found the stored value invalid). True when written.
   */
  publishStaple(key: string, der: Uint8Array, thisUpdateMs: number, expireAtMs: number, replace: boolean): Promise<boolean>;
  /** SET key token NX PX ttlMs: true when this host now holds the lease. */
  takeLease(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Deletes the lease only while it still holds `token` (a lease that expired may be another host's by now). */
  releaseLease(key: string, token: string): Promise<void>;
  /** A short string value, or undefined when absent, not a string, or longer than maxBytes. */
  readText(key: string, maxBytes: number): Promise<string | undefined>;
  writeText(key: string, value: string, ttlMs: number): Promise<void>;
  publish(channel: string, message: string): Promise<void>;
  /** Calls onMessage for every message on `channel` (a second connection, as Redis requires for SUBSCRIBE). */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  /** Resolves true once connected (false after timeoutMs): commands fail at once while disconnected. */
  waitUntilReady(timeoutMs: number): Promise<boolean>;
  /** Why the last connection attempt failed (refused, a TLS certificate that does not verify), for the log. */
  lastConnectionError?(): Error | undefined;
  /** Told when the connection comes back after it was lost (the client reconnects by itself). */
  onReady(listener: () => void): void;
  close(): Promise<void>;
}
