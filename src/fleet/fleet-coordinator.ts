// One fetch per certificate across a fleet (issue 11): read the shared staple, else take a lease and fetch for all,
// else wait for the holder's notification. Redis is untrusted and optional: every value is validated like a fetched
// one, and any Redis error makes this host carry on alone exactly as without --fleet (docs/fleet.md).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { StaplerdError, toStaplerdError } from '../errors/index.js';
import { logFailure, type EventLogger } from '../log/index.js';
import type { ValidatedResponse } from '../pki/types.js';
import type { Clock } from '../types/index.js';
import type { FleetRedis } from './fleet-redis.js';
import { decodeBackoff, encodeBackoff, fleetChannel, fleetKeysFor, hashCertId, isShareableFailure, judgeSharedStaple, type FleetKeys } from './fleet-keys.js';
import { MAX_BACKOFF_VALUE_BYTES, SHARED_BACKOFF_MS, shouldHonourSharedBackoff } from './fleet-keys.js';
import { FleetHealthCounters, type FleetHealth, type RejectReason } from './fleet-health.js';
import { FleetWaiters } from './fleet-waiters.js';

export type StapleSource = 'fetched' | 'fleet';

export interface FleetTiming {
  /** A holder has this long to fetch and publish before another host may take over. */
  readonly leaseMs: number;
  /** How often a waiting host looks at Redis when no notification comes (lost message, subscriber down). */
  readonly pollMs: number;
  /** After a Redis error, the fleet is left alone this long before it is tried again. */
  readonly retryAfterErrorMs: number;
}

export interface FleetCoordinatorOptions {
  readonly prefix: string;
  readonly clock: Clock;
  readonly logger: EventLogger;
  /** Connected lazily, on the first certificate (ioredis is loaded only then). */
  readonly connect: () => Promise<FleetRedis>;
  readonly timing: FleetTiming;
  /** Largest shared value read (the --max-response-size of fetched responses). */
  readonly maxValueBytes: number;
  /** Bounded wait for the first connection (a host must not stall its first pass on an absent Redis). */
  readonly connectWaitMs: number;
}

/** One certificate's fetch step, as the pass hands it over. */
export interface FleetRequest {
  /** A nonce-free OCSPRequest for the certificate: its CertID, hashed into the keys. */
  readonly certIdRequestDer: Uint8Array;
  /** The newest valid staple this host holds (a shared one must be newer). */
  readonly current?: ValidatedResponse;
  readonly minRemainingMs: number;
  /** The pass's full validation minus the nonce check: a shared response carries the holder's nonce. */
  readonly validateShared: (der: Uint8Array) => Promise<ValidatedResponse>;
  /** The pass's own fetch and validation (the transport's per-host limiter applies inside, not while waiting). */
  readonly fetch: () => Promise<ValidatedResponse>;
  readonly logFields: Record<string, unknown>;
}

export interface FleetResult {
  readonly response: ValidatedResponse;
  readonly source: StapleSource;
}

type SharedLook = { readonly kind: 'take'; readonly response: ValidatedResponse } | { readonly kind: 'absent' | 'unusable' | 'rejected' };

export class FleetCoordinator {
  readonly #options: FleetCoordinatorOptions;
  readonly #token = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  readonly #health = new FleetHealthCounters();
  readonly #waiters = new FleetWaiters();
  #redis: Promise<FleetRedis | undefined> | undefined;
  #subscribed = false;
  #aloneUntilMs = 0;
  #outage = false;
  #closed = false;
  /** Per certificate (its backoff key): shared backoffs honoured in a row, until it is fetched or taken again. */
  readonly #backoffsHonoured = new Map<string, number>();

  constructor(options: FleetCoordinatorOptions) {
    this.#options = options;
  }

  health(): FleetHealth {
    return this.#health.snapshot();
  }

  /**
   * The health after connecting if no certificate needed Redis yet (a host whose staples are all fresh would otherwise
   * report "not connected" to `status` and the metrics): bounded by the connect wait.
   */
  async checkedHealth(): Promise<FleetHealth> {
    await this.#usableRedis();
    return this.#health.snapshot();
  }

  async obtain(request: FleetRequest): Promise<FleetResult> {
    const redis = await this.#usableRedis();
    if (!redis) return this.#fetchAlone(request);
    const keys = fleetKeysFor(this.#options.prefix, hashCertId(request.certIdRequestDer));
    try {
      const result = await this.#obtainShared(redis, keys, request);
      this.#backoffsHonoured.delete(keys.backoff);
      return result;
    } catch (thrown) {
      if (thrown instanceof FleetFailure) {
        this.#noteError(thrown.cause);
        return this.#fetchAlone(request);
      }
      throw thrown;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#waiters.wakeAll();
    const redis = await this.#redis?.catch(() => undefined);
    await redis?.close();
  }

  async #obtainShared(redis: FleetRedis, keys: FleetKeys, request: FleetRequest): Promise<FleetResult> {
    const first = await this.#lookShared(redis, keys, request);
    if (first.kind === 'take') return this.#hit(first.response);
    let replace = first.kind === 'rejected';
    const deadlineMs = this.#options.clock.now().getTime() + 2 * this.#options.timing.leaseMs;
    while (!this.#closed && this.#options.clock.now().getTime() < deadlineMs) {
      await this.#throwSharedBackoff(redis, keys);
      if (await guard(redis.takeLease(keys.lease, this.#token, this.#options.timing.leaseMs))) {
        // Double-check under the lease: a holder may have published and released between our read and our SET
        // (a value already rejected is not read and counted twice).
        const recheck: SharedLook = replace ? { kind: 'rejected' } : await this.#lookShared(redis, keys, request);
        if (recheck.kind === 'take') {
          await this.#quietly(redis.releaseLease(keys.lease, this.#token));
          return this.#hit(recheck.response);
        }
        this.#health.leasesWon++;
        return this.#fetchAsHolder(redis, keys, request, replace || recheck.kind === 'rejected');
      }
      await this.#waitForHolder(redis, keys);
      const look = await this.#lookShared(redis, keys, request);
      if (look.kind === 'take') return this.#hit(look.response);
      // Garbage published over the holder's value: do not wait for more of it.
      if (look.kind === 'rejected') {
        replace = true;
        break;
      }
    }
    // The holder neither published nor gave up its lease in time (hung, or a value kept failing): fetch alone.
    return this.#fetchAsHolder(redis, keys, request, replace, false);
  }

  async #fetchAsHolder(redis: FleetRedis, keys: FleetKeys, request: FleetRequest, replace: boolean, holdsLease = true): Promise<FleetResult> {
    // This host asks the responder now: the backoffs it honoured before no longer count.
    this.#backoffsHonoured.delete(keys.backoff);
    let response: ValidatedResponse;
    try {
      response = await request.fetch();
    } catch (thrown) {
      const error = toStaplerdError(thrown);
      if (isShareableFailure(error.code)) {
        const retryAt = new Date(this.#options.clock.now().getTime() + SHARED_BACKOFF_MS);
        await this.#quietly(redis.writeText(keys.backoff, encodeBackoff({ code: error.code, retryAt }), SHARED_BACKOFF_MS));
      }
      await this.#finishHolding(redis, keys, holdsLease);
      throw thrown;
    }
    const expireAtMs = response.nextUpdate.getTime();
    if (expireAtMs > this.#options.clock.now().getTime()) {
      await this.#quietly(redis.publishStaple(keys.staple, response.der, response.thisUpdate.getTime(), expireAtMs, replace));
    }
    await this.#finishHolding(redis, keys, holdsLease);
    return { response, source: 'fetched' };
  }

  /** Wakes the waiting hosts (a new value, or a shared backoff) and hands the lease back while it is still ours. */
  async #finishHolding(redis: FleetRedis, keys: FleetKeys, holdsLease: boolean): Promise<void> {
    if (holdsLease) await this.#quietly(redis.releaseLease(keys.lease, this.#token));
    await this.#quietly(redis.publish(fleetChannel(this.#options.prefix), keys.staple));
  }

  async #lookShared(redis: FleetRedis, keys: FleetKeys, request: FleetRequest): Promise<SharedLook> {
    const read = await guard(redis.readStaple(keys.staple, this.#options.maxValueBytes));
    if (read.kind === 'none') return { kind: 'absent' };
    if (read.kind !== 'value') return this.#reject(read.kind, request);
    let shared: ValidatedResponse;
    try {
      shared = await request.validateShared(read.der);
    } catch (thrown) {
      return this.#reject('invalid', request, toStaplerdError(thrown).code);
    }
    const verdict = judgeSharedStaple(shared, request.current, this.#options.clock.now(), request.minRemainingMs);
    if (verdict === 'older') return this.#reject('older', request);
    return verdict === 'take' ? { kind: 'take', response: shared } : { kind: 'unusable' };
  }

  #reject(reason: RejectReason, request: FleetRequest, validationCode?: string): SharedLook {
    this.#health.reject(reason);
    const error = new StaplerdError('FLEET_VALUE_REJECTED', `shared staple in Redis rejected (${reason}${validationCode ? `: ${validationCode}` : ''}); fetching for this host`);
    logFailure(this.#options.logger, 'fleet.value_rejected', error, { ...request.logFields, reason, validationCode });
    return { kind: 'rejected' };
  }

  #hit(response: ValidatedResponse): FleetResult {
    this.#health.sharedHits++;
    return { response, source: 'fleet' };
  }

  async #throwSharedBackoff(redis: FleetRedis, keys: FleetKeys): Promise<void> {
    const backoff = decodeBackoff(await guard(redis.readText(keys.backoff, MAX_BACKOFF_VALUE_BYTES)), this.#options.clock.now());
    if (!backoff) return;
    const honoured = this.#backoffsHonoured.get(keys.backoff) ?? 0;
    if (!shouldHonourSharedBackoff(honoured)) {
      // Ask the responder once ourselves (fleet-keys.ts: a forged backoff must not keep a certificate unfetched).
      this.#backoffsHonoured.delete(keys.backoff);
      return;
    }
    this.#backoffsHonoured.set(keys.backoff, honoured + 1);
    throw new StaplerdError(backoff.code, `responder failing for the fleet (${backoff.code}); shared backoff until ${backoff.retryAt.toISOString()}`);
  }

  async #waitForHolder(redis: FleetRedis, keys: FleetKeys): Promise<void> {
    await this.#ensureSubscribed(redis);
    await this.#waiters.waitFor(keys.staple, this.#options.timing.pollMs);
  }

  async #ensureSubscribed(redis: FleetRedis): Promise<void> {
    if (this.#subscribed) return;
    this.#subscribed = true;
    // Without a subscription the waiters still poll; a later wait tries again.
    await redis.subscribe(fleetChannel(this.#options.prefix), (message) => this.#waiters.wake(message)).catch(() => (this.#subscribed = false));
  }

  async #fetchAlone(request: FleetRequest): Promise<FleetResult> {
    return { response: await request.fetch(), source: 'fetched' };
  }

  /** Redis work after the fetch: a failure there costs sharing, never the staple this host just fetched. */
  async #quietly(work: Promise<unknown>): Promise<void> {
    try {
      await work;
    } catch (thrown) {
      this.#noteError(thrown);
    }
  }

  async #usableRedis(): Promise<FleetRedis | undefined> {
    if (this.#closed || this.#options.clock.now().getTime() < this.#aloneUntilMs) return undefined;
    this.#redis ??= this.#connect();
    const redis = await this.#redis;
    // The first connection may just have failed: alone from now on, for retryAfterErrorMs.
    if (!redis || this.#options.clock.now().getTime() < this.#aloneUntilMs) return undefined;
    return redis;
  }

  async #connect(): Promise<FleetRedis | undefined> {
    try {
      const redis = await this.#options.connect();
      redis.onReady(() => this.#noteReady());
      if (await redis.waitUntilReady(this.#options.connectWaitMs)) this.#noteReady();
      // The client's own reason when it has one: "not connected" alone hides a refused TLS certificate.
      else this.#noteError(redis.lastConnectionError?.() ?? new Error('not connected'));
      return redis;
    } catch (thrown) {
      this.#noteError(thrown);
      // Could not even set up a client (unreadable password file, bad URL): alone for this process's lifetime.
      return undefined;
    }
  }

  #noteReady(): void {
    this.#health.connected = true;
    this.#aloneUntilMs = 0;
    if (!this.#outage) return;
    this.#outage = false;
    this.#options.logger.log('info', 'fleet.reconnected', 'fleet Redis reachable again; sharing staples resumes', {});
  }

  #noteError(thrown: unknown): void {
    this.#health.errors++;
    this.#health.connected = false;
    this.#aloneUntilMs = this.#options.clock.now().getTime() + this.#options.timing.retryAfterErrorMs;
    if (this.#outage) return;
    this.#outage = true;
    const error = toStaplerdError(thrown, 'FLEET_UNAVAILABLE');
    const unavailable = error.code === 'FLEET_UNAVAILABLE' ? error : new StaplerdError('FLEET_UNAVAILABLE', error.message, {}, { cause: thrown });
    logFailure(this.#options.logger, 'fleet.unavailable', unavailable, {}, { message: `fleet Redis unavailable (${unavailable.message}); carrying on alone` });
  }
}

/** A Redis command's failure, told apart from the pass's own errors (a fetch failure must not look like an outage). */
class FleetFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('fleet Redis command failed');
  }
}

async function guard<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (thrown) {
    throw new FleetFailure(thrown);
  }
}
