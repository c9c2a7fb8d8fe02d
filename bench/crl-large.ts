// Measures the large-CRL figures of docs/performance.md: a CRL of N entries (default 300,000, about 10 MB) made by
// `openssl ca -gencrl`, then validated in this process (time; heap and RSS retained after GC) and checked end to end
// by the built CLI against a loopback server (wall time, peak RSS). Run: npm run bench:crl [-- --entries N].
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Certificate } from '../src/pki/certificate.js';
import { validateCrl } from '../src/pki/crl-validation.js';

const run = promisify(execFile);

async function makeCa(dir: string, entries: number, crlUrl: string): Promise<{ crl: Buffer; caPem: string; leafPem: string }> {
  await mkdir(path.join(dir, 'newcerts'), { recursive: true });
  const config = path.join(dir, 'openssl.cnf');
  await writeFile(config, `[ca]\ndefault_ca = d\n[d]\ndir = ${dir}\ndatabase = ${dir}/index.txt\nnew_certs_dir = ${dir}/newcerts\ncertificate = ${dir}/ca.pem\n`
    + `private_key = ${dir}/ca.key\nserial = ${dir}/serial\ncrlnumber = ${dir}/crlnumber\ndefault_md = sha256\ndefault_days = 30\ndefault_crl_days = 7\n`
    + `policy = p\nunique_subject = no\n[p]\ncommonName = supplied\n[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = bench CRL CA\n`
    + `[ca_ext]\nbasicConstraints = critical,CA:true\nkeyUsage = critical,keyCertSign,cRLSign\n[leaf_ext]\nbasicConstraints = CA:false\ncrlDistributionPoints = URI:${crlUrl}\n`);
  await writeFile(path.join(dir, 'serial'), '1000\n');
  await writeFile(path.join(dir, 'crlnumber'), '01\n');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${dir}/ca.key`, '-out', `${dir}/ca.pem`, '-days', '30', '-config', config, '-extensions', 'ca_ext']);
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${dir}/leaf.key`, '-out', `${dir}/leaf.csr`, '-subj', '/CN=leaf.bench']);
  await writeFile(path.join(dir, 'index.txt'), '');
  await run('openssl', ['ca', '-batch', '-config', config, '-extensions', 'leaf_ext', '-in', `${dir}/leaf.csr`, '-out', `${dir}/leaf.pem`, '-notext']);
  const lines: string[] = [];
  for (let i = 0; i < entries; i += 1) {
    const serial = createHash('sha256').update(`entry ${i}`).digest('hex').slice(0, 32).replace(/^[89a-f]/, '1');
    lines.push(`R\t300101000000Z\t250101000000Z,keyCompromise\t${serial}\tunknown\t/CN=bulk-${i}`);
  }
  await writeFile(path.join(dir, 'index.txt'), lines.join('\n') + '\n', { flag: 'a' });
  await run('openssl', ['ca', '-gencrl', '-config', config, '-out', `${dir}/crl.pem`], { maxBuffer: 1 << 30 });
  const { stdout } = await run('openssl', ['crl', '-in', `${dir}/crl.pem`, '-outform', 'DER'], { encoding: 'buffer', maxBuffer: 1 << 30 });
  return { crl: stdout as unknown as Buffer, caPem: await readFile(`${dir}/ca.pem`, 'utf8'), leafPem: await readFile(`${dir}/leaf.pem`, 'utf8') };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function main(): Promise<void> {
  const entries = Number(process.argv[process.argv.indexOf('--entries') + 1]) || 300_000;
  const dir = await mkdtemp(path.join(tmpdir(), 'staplerd-crl-bench-'));
  const server = createServer((_req, res) => res.end(crlBody));
  let crlBody: Uint8Array = new Uint8Array(0);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const crlUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench.crl`;
  try {
    const { crl, caPem, leafPem } = await makeCa(dir, entries, crlUrl);
    crlBody = crl;
    const issuer = Certificate.fromDer(Buffer.from(caPem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
    const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
    const settle = async (): Promise<NodeJS.MemoryUsage> => {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 200));
      gc();
      return process.memoryUsage();
    };
    const der = new Uint8Array(crl);
    const before = await settle();
    const kept: Awaited<ReturnType<typeof validateCrl>>[] = [];
    const started = process.hrtime.bigint();
    kept.push(await validateCrl(der, { issuer, source: crlUrl }));
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    const after = await settle();
    const index = kept[0]!.revoked;
    console.log(`CRL: ${entries} entries, ${mib(crl.length)} DER`);
    console.log(`validateCrl: ${elapsedMs.toFixed(0)} ms; index ${mib(index.byteLength)} for ${index.size} serials; retained after GC: `
      + `heap ${mib(after.heapUsed - before.heapUsed)}, external ${mib(after.external - before.external)}, RSS ${mib(after.rss - before.rss)}`);
    await mkdir(path.join(dir, 'certs'));
    await writeFile(path.join(dir, 'certs', 'fullchain.pem'), leafPem + caPem);
    const cli = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'src', 'cli', 'main.js');
    const cliStarted = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%M', process.execPath, ...(process.env.CRL_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean), cli, 'once', '--certs', path.join(dir, 'certs'), '--state-dir', path.join(dir, 'state')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const peakKb = Number(stderr.trim().split('\n').pop());
    console.log(`staplerd once (download + validate + verdict): exit ${code}, ${(Number(process.hrtime.bigint() - cliStarted) / 1e6).toFixed(0)} ms wall, peak RSS ${mib(peakKb * 1024)}`);
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
