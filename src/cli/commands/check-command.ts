// `staplerd check`: runs exactly the validation that guards every staple write on a response file.
import { StaplerdError, toStaplerdError } from '../../errors/index.js';
import { DEFAULT_MAX_CERTIFICATE_FILE_BYTES, MAX_STAPLE_FILE_BYTES, readRegularFileSync } from '../../fs/read-regular-file.js';
import { Certificate } from '../../pki/certificate.js';
import { readCertificateFile } from '../../pki/pem.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MIN_REMAINING_MS, validateOcspResponse } from '../../pki/ocsp-response.js';
import { resolveConfig } from '../../config/index.js';
import { EXIT_OK, exitStatusOfFailure } from '../exit-codes.js';

export interface CheckInput {
  readonly response: string;
  readonly issuer: string;
  readonly cert?: string;
  readonly serial?: string;
  readonly at?: string;
  readonly json?: boolean;
  readonly clockSkew?: string;
  readonly minRemaining?: string;
  readonly lifetimeWithoutNextUpdate?: string;
}

/** Bounded and non-blocking like every read of staplerd: `check /dev/zero` or a FIFO is a usage error, not a hang. */
async function readInput(file: string, maxBytes: number): Promise<Uint8Array> {
  try {
    return readRegularFileSync(file, { maxBytes });
  } catch (error) {
    // Unreadable input stays a usage error (exit 2, docs/cli.md); a refusal keeps its own code in the message.
    const reason = error instanceof StaplerdError ? `${error.code} ${error.message}` : (error as Error).message;
    throw new StaplerdError('USAGE', `cannot read ${file}: ${reason}`, { file }, { cause: error });
  }
}

/** The first certificate of a PEM or DER file (the one asked about, or the issuer). */
async function readFirstCertificate(file: string): Promise<Certificate> {
  const contents = readCertificateFile(await readInput(file, DEFAULT_MAX_CERTIFICATE_FILE_BYTES), file);
  const first = contents.certificates[0];
  if (!first) throw new StaplerdError('USAGE', 'no certificate in file', { file });
  return Certificate.fromDer(first, file);
}

function parseInstant(text: string | undefined): Date {
  if (text === undefined) return new Date();
  const at = new Date(text);
  if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(text)) {
    throw new StaplerdError('USAGE', `option --at: expected an ISO-8601 time such as 2026-01-31T12:00:00Z (got ${JSON.stringify(text)})`);
  }
  return at;
}

function parseSeconds(text: string | undefined, option: string, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) throw new StaplerdError('USAGE', `option ${option}: expected a number of seconds (got ${JSON.stringify(text)})`);
  return seconds * 1000;
}

export async function runCheckCommand(input: CheckInput): Promise<number> {
  if ((input.cert === undefined) === (input.serial === undefined)) {
    throw new StaplerdError('USAGE', 'give exactly one of --cert <pem> or --serial <hex>');
  }
  if (input.serial !== undefined && !/^(0x)?[0-9a-fA-F:]+$/.test(input.serial)) {
    throw new StaplerdError('USAGE', `option --serial: expected hexadecimal digits (got ${JSON.stringify(input.serial)})`);
  }
  const at = parseInstant(input.at);
  const clockSkewMs = parseSeconds(input.clockSkew, '--clock-skew', DEFAULT_CLOCK_SKEW_MS);
  const minRemainingMs = parseSeconds(input.minRemaining, '--min-remaining', DEFAULT_MIN_REMAINING_MS);
  // Parsed and defaulted where `once`/`run` parse it, so check judges exactly as the pass does.
  const { lifetimeWithoutNextUpdateMs } = await resolveConfig({ flags: { lifetimeWithoutNextUpdate: input.lifetimeWithoutNextUpdate }, requireCerts: false });
  const der = await readInput(input.response, MAX_STAPLE_FILE_BYTES);
  const issuer = await readFirstCertificate(input.issuer);
  const cert = input.cert !== undefined ? await readFirstCertificate(input.cert) : undefined;
  const serialHex = input.serial?.replace(/^0x/i, '').replace(/:/g, '');

  try {
    const result = await validateOcspResponse(der, { issuer, cert, serialHex, at, clockSkewMs, minRemainingMs, lifetimeWithoutNextUpdateMs, file: input.response });
    if (input.json) {
      process.stdout.write(
        JSON.stringify({
          file: input.response,
          valid: true,
          at: at.toISOString(),
          certStatus: result.certStatus,
          serial: result.serialHex,
          producedAt: result.producedAt.toISOString(),
          thisUpdate: result.thisUpdate.toISOString(),
          nextUpdate: result.nextUpdate.toISOString(),
          nextUpdateImplied: result.nextUpdateImplied,
          revocationTime: result.revocationTime?.toISOString(),
          revocationReason: result.revocationReason,
          signedBy: result.signedBy,
        }) + '\n',
      );
    } else {
      const revoked = result.revocationTime ? ` at ${result.revocationTime.toISOString()}${result.revocationReason ? ` (${result.revocationReason})` : ''}` : '';
      process.stdout.write(
        `valid: ${input.response}: status ${result.certStatus}${revoked}, serial ${result.serialHex}, ` +
          `thisUpdate ${result.thisUpdate.toISOString()}, nextUpdate ${result.nextUpdate.toISOString()}${result.nextUpdateImplied ? ' (none in the response: thisUpdate + lifetimeWithoutNextUpdate)' : ''}, signed by ${result.signedBy}\n`,
      );
    }
    return EXIT_OK;
  } catch (thrown) {
    const error = toStaplerdError(thrown, 'RESPONSE_MALFORMED', { file: input.response });
    if (input.json) {
      process.stdout.write(JSON.stringify({ file: input.response, valid: false, at: at.toISOString(), code: error.code, message: error.message }) + '\n');
    } else {
      process.stdout.write(`invalid: ${input.response}: ${error.code}: ${error.message}\n`);
    }
    return exitStatusOfFailure(error.code);
  }
}
