// A CA run by `openssl ca` in a temp dir: leaves with a CRL distribution point, revocations, and CRLs made by
// `openssl ca -gencrl` (thisUpdate/nextUpdate, CRL number and extensions as each test needs), served over loopback.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why `openssl` cannot run here, or undefined when it can (for describeIfAvailable). */
export function missingOpensslReason(): string | undefined {
  const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return openssl.error || openssl.status !== 0 ? 'openssl is not installed' : undefined;
}

/** describeIfAvailable's requirement for suites that run `openssl` (CI installs it). */
export const NEEDS_OPENSSL = { what: 'needs openssl installed', remedy: 'CI must install it (.ci/run)', skipHint: 'Install openssl to run these tests.' } as const;

export interface OpensslLeaf {
  readonly certFile: string;
  /** Leaf then CA, as certbot's fullchain.pem. */
  readonly fullchainFile: string;
  readonly serialHex: string;
}

export interface CrlOptions {
  /** YYYYMMDDHHMMSSZ, for CRLs already expired or not yet valid (OpenSSL 3 -crl_lastupdate / -crl_nextupdate). */
  readonly lastUpdate?: string;
  readonly nextUpdate?: string;
  /** Lines of the crl_extensions section (default: authorityKeyIdentifier only). */
  readonly extensions?: readonly string[];
}

export interface OpensslCa {
  readonly dir: string;
  readonly caFile: string;
  issueLeaf(name: string, crlUrls: readonly string[], extraExtensions?: readonly string[]): Promise<OpensslLeaf>;
  revoke(leaf: OpensslLeaf, reason?: string): Promise<void>;
  /** A DER CRL with the next CRL number. */
  generateCrl(options?: CrlOptions): Promise<Buffer>;
  /** The database's revoked lines, written directly: `count` entries for a large CRL without `count` certificates. */
  addRevokedEntries(count: number): Promise<void>;
  /** Takes a certificate off hold: its database line goes back to valid, so the next CRL no longer lists it. */
  release(leaf: OpensslLeaf): Promise<void>;
}

const CA_CONFIG = (dir: string, caKeyUsage: string) => `[ca]
default_ca = ca_default
[ca_default]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}/newcerts
certificate = ${dir}/ca.pem
private_key = ${dir}/ca.key
serial = ${dir}/serial
crlnumber = ${dir}/crlnumber
default_md = sha256
default_days = 30
default_crl_days = 7
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = staplerd CRL test CA
[ca_ext]
basicConstraints = critical,CA:true
keyUsage = ${caKeyUsage}
subjectKeyIdentifier = hash
`;

/** A CA in `dir`, always named "staplerd CRL test CA": two of them are a CA and a forger with its name and another key. */
export async function createOpensslCa(dir: string, options: { caKeyUsage?: string } = {}): Promise<OpensslCa> {
  await mkdir(path.join(dir, 'newcerts'), { recursive: true });
  const config = path.join(dir, 'openssl.cnf');
  await writeFile(config, CA_CONFIG(dir, options.caKeyUsage ?? 'critical,keyCertSign,cRLSign'));
  await writeFile(path.join(dir, 'index.txt'), '');
  await writeFile(path.join(dir, 'serial'), '1000\n');
  await writeFile(path.join(dir, 'crlnumber'), '01\n');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${dir}/ca.key`, '-out', `${dir}/ca.pem`,
    '-days', '30', '-config', config, '-extensions', 'ca_ext']);
  const caFile = path.join(dir, 'ca.pem');
  let crlCount = 0;
  return {
    dir,
    caFile,
    async issueLeaf(name, crlUrls, extraExtensions = []) {
      const key = path.join(dir, `${name}.key`);
      const csr = path.join(dir, `${name}.csr`);
      const certFile = path.join(dir, `${name}.pem`);
      const ext = path.join(dir, `${name}.ext`);
      const lines = ['basicConstraints = critical,CA:false', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth', ...extraExtensions];
      if (crlUrls.length > 0) lines.push(`crlDistributionPoints = ${crlUrls.map((url) => `URI:${url}`).join(',')}`);
      await writeFile(ext, `${lines.join('\n')}\n`);
      await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}.test`]);
      await run('openssl', ['ca', '-batch', '-config', config, '-in', csr, '-out', certFile, '-extfile', ext, '-notext']);
      const { stdout } = await run('openssl', ['x509', '-in', certFile, '-noout', '-serial']);
      const serialHex = stdout.trim().replace(/^serial=/, '').toLowerCase().replace(/^0+(?=.)/, '');
      const fullchainFile = path.join(dir, `${name}-fullchain.pem`);
      await writeFile(fullchainFile, (await readFile(certFile, 'utf8')) + (await readFile(caFile, 'utf8')));
      return { certFile, fullchainFile, serialHex };
    },
    async revoke(leaf, reason = 'keyCompromise') {
      await run('openssl', ['ca', '-config', config, '-revoke', leaf.certFile, '-crl_reason', reason]);
    },
    async generateCrl(options = {}) {
      crlCount += 1;
      const section = `crl_ext_${crlCount}`;
      const extensions = options.extensions ?? ['authorityKeyIdentifier = keyid:always'];
      const extFile = path.join(dir, `${section}.cnf`);
      await writeFile(extFile, `${await readFile(config, 'utf8')}\n[${section}]\n${extensions.join('\n')}\n`);
      const pem = path.join(dir, `crl-${crlCount}.pem`);
      const args = ['ca', '-gencrl', '-config', extFile, '-crlexts', section, '-out', pem];
      if (options.lastUpdate) args.push('-crl_lastupdate', options.lastUpdate);
      if (options.nextUpdate) args.push('-crl_nextupdate', options.nextUpdate);
      await run('openssl', args);
      const { stdout } = await run('openssl', ['crl', '-in', pem, '-outform', 'DER'], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
      return stdout as unknown as Buffer;
    },
    async release(leaf) {
      const database = path.join(dir, 'index.txt');
      const lines = (await readFile(database, 'utf8')).split('\n').map((line) => {
        const fields = line.split('\t');
        if (fields[0] !== 'R' || fields[3]?.toLowerCase().replace(/^0+/, '') !== leaf.serialHex) return line;
        return ['V', fields[1], '', ...fields.slice(3)].join('\t');
      });
      await writeFile(database, lines.join('\n'));
    },
    async addRevokedEntries(count) {
      const lines: string[] = [];
      for (let i = 0; i < count; i += 1) {
        // index.txt: status, expiry, revocation date[,reason], serial, file, subject (tab-separated).
        const serial = createHash('sha256').update(`entry ${i}`).digest('hex').slice(0, 32).replace(/^[89a-f]/, '1');
        lines.push(`R\t300101000000Z\t250101000000Z,keyCompromise\t${serial}\tunknown\t/CN=bulk-${i}.test`);
      }
      await writeFile(path.join(dir, 'index.txt'), lines.join('\n') + '\n', { flag: 'a' });
    },
  };
}

export interface CrlServer {
  readonly baseUrl: string;
  /** Requests seen, by path. */
  readonly requests: { path: string; conditional: boolean; status: number }[];
  /** What `path` serves from now on (DER), with an ETag from its hash and a fixed Last-Modified. */
  serve(urlPath: string, der: Buffer): void;
  close(): Promise<void>;
}

/** A loopback HTTP server for CRLs that counts requests and answers conditional requests with 304 when unchanged. */
export async function startCrlServer(): Promise<CrlServer> {
  const bodies = new Map<string, { der: Buffer; etag: string; lastModified: string }>();
  const requests: CrlServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const body = bodies.get(req.url ?? '');
    const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined;
    let status = 404;
    if (body && (req.headers['if-none-match'] === body.etag || (req.headers['if-none-match'] === undefined && req.headers['if-modified-since'] === body.lastModified))) status = 304;
    else if (body) status = 200;
    requests.push({ path: req.url ?? '', conditional, status });
    if (status === 200) {
      res.writeHead(200, { 'content-type': 'application/pkix-crl', etag: body!.etag, 'last-modified': body!.lastModified });
      res.end(body!.der);
    } else {
      res.writeHead(status);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let served = 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    serve(urlPath, der) {
      served += 1;
      const etag = `"${createHash('sha256').update(der).digest('hex').slice(0, 16)}"`;
      bodies.set(urlPath, { der, etag, lastModified: new Date(Date.UTC(2026, 0, 1, 0, served)).toUTCString() });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
