// OpenSSL's own OCSP responder (`openssl ocsp -index`) beside the built staplerd, both inside a loopback-only network namespace.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as asn1js from 'asn1js';
import path from 'node:path';
import type { IssuedIdentity } from '../../src/demo/demo-pki.js';
import type { Certificate } from '../../src/pki/certificate.js';
import { exportPrivateKeyPem } from '../../src/demo/key-pair.js';
import { CLI_PATH, isolateStateDir, withStateDirArgument, type CliResult } from './run-cli.js';

/** A fixed port is safe: every run gets a fresh network namespace, where nothing else listens. */
export const OPENSSL_RESPONDER_PORT = 28960;
export const OPENSSL_RESPONDER_URL = `http://127.0.0.1:${OPENSSL_RESPONDER_PORT}/`;

/**
 * Why OpenSSL's responder cannot run here, or undefined when it can. `openssl ocsp -port` binds every interface, so
 * it only ever runs inside `unshare -n`, whose namespace has nothing but loopback (needs root or CAP_SYS_ADMIN).
 */
export function probeOpensslNamespace(): string | undefined {
  const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (openssl.error || openssl.status !== 0) return `openssl is not runnable: ${openssl.error?.message ?? openssl.stderr}`;
  const unshare = spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (unshare.error || unshare.status !== 0) return `"unshare -n" is not permitted here: ${unshare.error?.message ?? unshare.stderr.trim()}`;
  return undefined;
}

export interface IndexEntry {
  readonly certificate: Certificate;
  /** Absent: status V (valid, answered "good"). */
  readonly revoked?: { readonly at: Date; readonly reason?: string };
}

/** YYMMDDHHMMSSZ, the UTCTime text OpenSSL's `ca` writes into index.txt. */
export function formatIndexTime(date: Date): string {
  return date.toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.\d{3}Z$/, '$1$2$3$4$5$6Z');
}

/** "/O=.../CN=..." as OpenSSL's index shows names; informational only, the lookup is by serial. */
function formatIndexSubject(certificate: Certificate): string {
  return '/' + certificate.summary.subject.split(', ').reverse().join('/');
}

/**
 * One index.txt line: status, expiry, revocation time[,reason], serial, file name, subject, tab-separated.
 * The serial is uppercase hex without leading zero bytes: `openssl ocsp` looks a request up by BN_bn2hex of its serial.
 */
export function formatIndexLine(entry: IndexEntry): string {
  const { certificate, revoked } = entry;
  const revocation = revoked ? formatIndexTime(revoked.at) + (revoked.reason ? `,${revoked.reason}` : '') : '';
  return [revoked ? 'R' : 'V', formatIndexTime(certificate.summary.notAfter), revocation, certificate.summary.serialHex.toUpperCase(), 'unknown', formatIndexSubject(certificate)].join('\t');
}

export interface OpensslResponderFiles {
  readonly indexFile: string;
  /** -CA: the certificate whose leaves the index lists. */
  readonly caFile: string;
  /** -rsigner / -rkey: who signs the answers (the CA itself or a delegated responder). */
  readonly signerCertFile: string;
  readonly signerKeyFile: string;
  /** Where the responder's own output goes. */
  readonly logFile: string;
}

/** Writes index.txt, the CA certificate and the signer's certificate and key (owner-only) into dir. */
export async function writeOpensslResponderFiles(
  dir: string,
  setup: { ca: IssuedIdentity; signer: IssuedIdentity; entries: readonly IndexEntry[] },
): Promise<OpensslResponderFiles> {
  const files: OpensslResponderFiles = {
    indexFile: path.join(dir, 'index.txt'),
    caFile: path.join(dir, 'ca.pem'),
    signerCertFile: path.join(dir, 'signer.pem'),
    signerKeyFile: path.join(dir, 'signer.key'),
    logFile: path.join(dir, 'openssl-ocsp.log'),
  };
  await writeFile(files.indexFile, setup.entries.map((entry) => formatIndexLine(entry) + '\n').join(''));
  await writeFile(files.caFile, setup.ca.certificate.toPem());
  await writeFile(files.signerCertFile, setup.signer.certificate.toPem());
  await writeFile(files.signerKeyFile, await exportPrivateKeyPem(setup.signer.keys), { mode: 0o600 });
  return files;
}

/**
 * Starts the responder, waits until it listens, runs "$@", stops the responder and exits with the command's status.
 * Readiness is read from /proc/net/tcp{,6} (state 0A = LISTEN), never by connecting: OpenSSL 3.0's responder spins
 * at 100% CPU forever after a client connects and closes without sending a request.
 */
const NAMESPACE_SCRIPT = `# runs OpenSSL's OCSP responder and one command in a fresh network namespace (only loopback)
set -u
ip link set lo up || { echo "cannot bring up lo" >&2; exit 97; }
openssl ocsp -index "$OCSP_INDEX" -port "$OCSP_PORT" -rsigner "$OCSP_SIGNER" -rkey "$OCSP_KEY" -CA "$OCSP_CA" \${OCSP_NMIN:+-nmin "$OCSP_NMIN"} >>"$OCSP_LOG" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
port_hex=$(printf '%04X' "$OCSP_PORT")
ready=0
for _ in $(seq 200); do
  if awk -v port=":$port_hex" 'substr($2, length($2) - 4) == port && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6; then ready=1; break; fi
  kill -0 $pid 2>/dev/null || { echo "openssl ocsp exited before listening" >&2; exit 98; }
  sleep 0.05
done
[ $ready = 1 ] || { echo "openssl ocsp did not listen on port $OCSP_PORT" >&2; exit 99; }
"$@"
rc=$?
kill $pid 2>/dev/null
wait $pid 2>/dev/null
exit $rc
`;

export interface NamespaceRunResult extends CliResult {
  /** What `openssl ocsp` printed (one "Received request" line per request). */
  readonly responderLog: string;
}

/**
 * `staplerd <args>` (the built binary) in a new network namespace where OpenSSL's responder listens on
 * OPENSSL_RESPONDER_PORT. The whole process group is killed after timeoutMs.
 */
export async function runCliBesideOpensslResponder(
  files: OpensslResponderFiles,
  args: readonly string[],
  /** nextUpdateMinutes null: no -nmin, so OpenSSL leaves nextUpdate out of its answers. */
  options: { env?: NodeJS.ProcessEnv; nextUpdateMinutes?: number | null; timeoutMs?: number },
): Promise<NamespaceRunResult> {
  const scriptFile = path.join(path.dirname(files.indexFile), 'run-in-namespace.sh');
  await writeFile(scriptFile, NAMESPACE_SCRIPT);
  await writeFile(files.logFile, '');
  const state = isolateStateDir(options.env);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    ...options.env,
    ...state.env,
    OCSP_INDEX: files.indexFile,
    OCSP_PORT: String(OPENSSL_RESPONDER_PORT),
    OCSP_SIGNER: files.signerCertFile,
    OCSP_KEY: files.signerKeyFile,
    OCSP_CA: files.caFile,
    OCSP_NMIN: options.nextUpdateMinutes === null ? '' : String(options.nextUpdateMinutes ?? 60),
    OCSP_LOG: files.logFile,
  };
  const cliArgs = withStateDirArgument(args, state.env.STATE_DIRECTORY!);
  try {
    const result = await spawnGroup('unshare', ['-n', 'bash', scriptFile, process.execPath, CLI_PATH, ...cliArgs], env, options.timeoutMs ?? 30_000);
    return { ...result, responderLog: await readFile(files.logFile, 'utf8') };
  } finally {
    state.dispose();
  }
}

/** Spawns a command as its own process group, so a timeout also ends the responder started in the background. */
function spawnGroup(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface OpensslVerdict {
  /** openssl ocsp exited 0 and printed "Response verify OK". */
  readonly verified: boolean;
  /** "good", "revoked" or "unknown" as openssl reads the SingleResponse for the certificate. */
  readonly status?: string;
  readonly output: string;
}

/**
 * Verifies a DER staple with openssl, independently of staplerd: signature and signer chain up to rootFile
 * (intermediateFile is offered as an untrusted link for a delegated responder), CertID of certFile, times.
 * -no_nonce: otherwise openssl makes up a request nonce of its own and fails with "Nonce Verify error" on a staple
 * that echoes the nonce staplerd sent (a staple's nonce can only be checked by the fetcher, which staplerd did).
 */
export function verifyStapleWithOpenssl(stapleFile: string, files: { rootFile: string; intermediateFile: string; certFile: string }): Promise<OpensslVerdict> {
  const args = ['ocsp', '-respin', stapleFile, '-no_nonce', '-CAfile', files.rootFile, '-issuer', files.intermediateFile, '-verify_other', files.intermediateFile, '-cert', files.certFile];
  return new Promise((resolve) => {
    execFile('openssl', args, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      const status = stdout.split('\n').find((line) => line.startsWith(`${files.certFile}: `))?.slice(files.certFile.length + 2).trim();
      resolve({ verified: !error && /Response verify OK/.test(output), status, output });
    });
  });
}

/** openssl's text dump of a DER response (no verification), e.g. to look for the echoed nonce. */
export function dumpResponseWithOpenssl(responseFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('openssl', ['ocsp', '-respin', responseFile, '-resp_text', '-noverify'], (error, stdout, stderr) => {
      if (error) reject(new Error(`openssl ocsp -resp_text failed: ${stderr}`));
      else resolve(stdout);
    });
  });
}

/** RFC 6960 4.2.1 OCSPResponseStatus values that carry no responseBytes (4 is unused). */
export const OCSP_ERROR_STATUS = { malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6 } as const;

/**
 * `OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED }` without responseBytes (RFC 6960 4.2.1), encoded here
 * with asn1js rather than by staplerd's own encoder (src/pki/sign-ocsp-response.ts), so a shared bug cannot hide.
 */
export function encodeOcspStatusOnlyResponse(status: keyof typeof OCSP_ERROR_STATUS): Uint8Array {
  const response = new asn1js.Sequence({ value: [new asn1js.Enumerated({ value: OCSP_ERROR_STATUS[status] })] });
  return new Uint8Array(response.toBER());
}

export interface FixedAnswerResponder {
  /** http://127.0.0.1:<port>/ */
  readonly url: string;
  /** Requests answered so far. */
  readonly requestCount: number;
  close(): Promise<void>;
}

/**
 * The smallest real responder for answers OpenSSL's `openssl ocsp -port` cannot give (it has no tryLater switch):
 * a loopback HTTP server answering every request, GET or POST, with `body` as application/ocsp-response.
 */
export function startFixedAnswerResponder(body: Uint8Array): Promise<FixedAnswerResponder> {
  let requestCount = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requestCount += 1;
      response.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': body.byteLength });
      response.end(body);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        get requestCount() {
          return requestCount;
        },
        close: () => new Promise<void>((resolveClose) => {
          server.closeAllConnections();
          server.close(() => resolveClose());
        }),
      });
    });
  });
}

/** Everything `openssl ocsp -respin <file> -resp_text -noverify` prints, whatever its exit status (an unsuccessful
 *  response makes it print "Responder Error: <status> (<n>)" and exit 1). */
export function describeResponseWithOpenssl(responseFile: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('openssl', ['ocsp', '-respin', responseFile, '-resp_text', '-noverify'], (_error, stdout, stderr) => resolve(`${stdout}${stderr}`));
  });
}
