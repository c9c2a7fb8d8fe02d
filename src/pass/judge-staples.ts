// Step one of processing a certificate: judge what each of its staple files holds now, before anything is decided.
import { StaplerdError, toStaplerdError } from '../errors/index.js';
import { MAX_STAPLE_FILE_BYTES, readRegularFileIfExistsSync } from '../fs/read-regular-file.js';
import { normalizeSerialHex } from '../pki/der.js';
import { impliedNextUpdate, inspectOcspResponse, validateOcspResponse, validateRememberedOcspResponse, type ValidationInput } from '../pki/ocsp-response.js';
import type { ValidatedResponse } from '../pki/types.js';
import { isGoodAt, pickNewestStaple } from '../policy/index.js';
import type { StapleTarget, TargetFile } from './collect-targets.js';
import type { StapleFileState } from './pass-types.js';
import type { TargetContext } from './target-context.js';

export interface ExistingStaple {
  readonly file: TargetFile;
  readonly valid?: ValidatedResponse;
  /** Why the file on disk is not usable (absent file: neither valid nor invalid). */
  readonly invalid?: StaplerdError;
}

/**
 * Every staple file of a certificate whose issuer is known, fully validated at `now`. One file after the other, each
 * without a promise when its signature is remembered (validateRememberedOcspResponse): the async steps and
 * Promise.all cost each target of a warm pass more than letting a certificate's few files overlap saved.
 */
export async function judgeStaplesOnDisk(target: StapleTarget, ctx: TargetContext, now: Date): Promise<ExistingStaple[]> {
  const judged: ExistingStaple[] = [];
  for (const file of target.files) {
    const { der, invalid } = readStapleBytes(file);
    if (!der) {
      judged.push({ file, invalid });
      continue;
    }
    const input = validationInputFor(file, target, ctx, now);
    const remembered = validateRememberedOcspResponse(der, input);
    judged.push(remembered ? { file, valid: remembered } : await validateStapleBytes(file, der, input));
  }
  return judged;
}

/**
 * The staple file's bytes, or what made it unreadable; `{}` when there is no file. Synchronous, as every read of a
 * staple already was (fs/read-regular-file.ts): the async wrapper only cost each target two more promises.
 */
function readStapleBytes(file: TargetFile): { der?: Uint8Array; invalid?: StaplerdError } {
  try {
    return { der: readRegularFileIfExistsSync(file.stapleFile, { maxBytes: MAX_STAPLE_FILE_BYTES }) };
  } catch (error) {
    // Reading is not writing: an unreadable staple has its own code (it was WRITE_FAILED, which meant another thing).
    // A code given below (a bounded read's) is kept.
    return { invalid: toStaplerdError(error, 'STAPLE_UNREADABLE', { file: file.stapleFile }) };
  }
}

function validationInputFor(file: TargetFile, target: StapleTarget, ctx: TargetContext, now: Date): ValidationInput {
  return {
    // Judged against the certificate in the file now: a renewal makes the old staple invalid at once.
    // No minimum lifetime here: a staple near its end is still kept until it really expires.
    issuer: target.issuer!.issuer,
    cert: target.leaf,
    at: now,
    clockSkewMs: ctx.config.clockSkewMs,
    minRemainingMs: 0,
    lifetimeWithoutNextUpdateMs: ctx.config.lifetimeWithoutNextUpdateMs,
    file: file.stapleFile,
    memos: ctx.memos,
  };
}

async function validateStapleBytes(file: TargetFile, der: Uint8Array, input: ValidationInput): Promise<ExistingStaple> {
  try {
    return { file, valid: await validateOcspResponse(der, input) };
  } catch (error) {
    return { file, invalid: toStaplerdError(error, 'RESPONSE_MALFORMED', { file: file.stapleFile }) };
  }
}

/**
 * Staples of a certificate that is not fetched for and has no issuer at hand (no OCSP URL: issuers are only resolved
 * for certificates with a responder; or the issuer was not found). Their signature cannot be checked, but a staple
 * that is unparseable, names another serial, has expired (past nextUpdate, or without one past thisUpdate +
 * lifetimeWithoutNextUpdate) is wrong whoever signed it, and servers would staple it as it is: those are judged
 * invalid. Any other staple is left alone, since nothing proves it wrong.
 */
export function judgeStaplesWithoutIssuer(target: StapleTarget, ctx: TargetContext, now: Date): Promise<ExistingStaple[]> {
  return Promise.all(target.files.map((file) => inspectStapleWithoutIssuer(file, target, ctx, now)));
}

async function inspectStapleWithoutIssuer(file: TargetFile, target: StapleTarget, ctx: TargetContext, now: Date): Promise<ExistingStaple> {
  const { der, invalid } = readStapleBytes(file);
  if (!der) return { file, invalid };
  const serial = normalizeSerialHex(target.leaf.summary.serialHex);
  const wrong = (code: 'RESPONSE_CERTID_MISMATCH' | 'RESPONSE_EXPIRED' | 'RESPONSE_NO_NEXT_UPDATE', message: string): ExistingStaple => ({ file, invalid: new StaplerdError(code, message, { file: file.stapleFile }) });
  try {
    const single = inspectOcspResponse(der, ctx.memos).singles.find((s) => normalizeSerialHex(s.serialHex) === serial);
    if (!single) return wrong('RESPONSE_CERTID_MISMATCH', `staple is for another certificate, not serial ${target.leaf.summary.serialHex}`);
    // No nextUpdate: usable for lifetimeWithoutNextUpdate after thisUpdate, as when validated; past that a server
    // would staple it forever, since the file itself never expires.
    if (!single.nextUpdate) {
      if (impliedNextUpdate(single.thisUpdate, ctx.config.lifetimeWithoutNextUpdateMs) <= now) return wrong('RESPONSE_NO_NEXT_UPDATE', 'staple has no nextUpdate and is older than lifetimeWithoutNextUpdate');
    } else if (single.nextUpdate <= now) return wrong('RESPONSE_EXPIRED', 'staple has expired');
    return { file };
  } catch (error) {
    return { file, invalid: toStaplerdError(error, 'RESPONSE_MALFORMED', { file: file.stapleFile }) };
  }
}

/** Per-file end state when only invalid staples may have been removed (no new response). */
export function describeFiles(existing: readonly ExistingStaple[], removed: readonly string[]): StapleFileState[] {
  return existing.map((e) => ({ certFile: e.file.certFile, stapleFile: e.file.stapleFile, staple: e.valid, changed: removed.includes(e.file.stapleFile) }));
}

export function newestValid(existing: readonly ExistingStaple[]): ValidatedResponse | undefined {
  return pickNewestStaple(existing.map((entry) => entry.valid));
}

/** True when every file holds a staple a server can serve for a while yet (good, minRemainingMs before nextUpdate). */
export function allGood(staples: Iterable<ValidatedResponse | undefined>, now: Date, minRemainingMs: number): boolean {
  for (const staple of staples) if (!isGoodAt(staple, now, minRemainingMs)) return false;
  return true;
}
