// `staplerd demo`: a throwaway CA, leaves in real-world layouts and an OCSP responder on 127.0.0.1, then a real pass.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_CONFIG, type StaplerdConfig } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { createLiveDependencies, runPass, type PassReport } from '../pass/index.js';
import { createDemoAuthority, issueLeaf } from './demo-pki.js';
import { startOcspResponder } from './ocsp-responder.js';
import { writeLeafFiles } from './write-leaf-files.js';

export interface DemoResult {
  readonly dir: string;
  readonly report: PassReport;
  /** Whether every certificate ended as the demo expects (good written, revoked reported, no-OCSP not applicable). */
  readonly asExpected: boolean;
  readonly lines: readonly string[];
}

export async function runDemo(options: { dir?: string; out?: NodeJS.WritableStream } = {}): Promise<DemoResult> {
  const dir = options.dir ? path.resolve(options.dir) : await mkdtemp(path.join(tmpdir(), 'staplerd-demo-'));
  const certsDir = path.join(dir, 'certs');
  const letsencryptDir = path.join(dir, 'letsencrypt');
  await mkdir(certsDir, { recursive: true });
  await mkdir(letsencryptDir, { recursive: true });

  const authority = await createDemoAuthority();
  const responder = await startOcspResponder({ authority, signBy: 'delegated' });
  try {
    const good = await issueLeaf(authority, { commonName: 'good.example', ocspUrls: [responder.url] });
    const revoked = await issueLeaf(authority, { commonName: 'revoked.example', ocspUrls: [responder.url] });
    const noOcsp = await issueLeaf(authority, { commonName: 'no-ocsp.example', ocspUrls: [] });
    const certbot = await issueLeaf(authority, { commonName: 'certbot.example', ocspUrls: [responder.url], mustStaple: true });
    const haproxy = await issueLeaf(authority, { commonName: 'haproxy.example', ocspUrls: [responder.url] });
    responder.setStatus(revoked.certificate.summary.serialHex, { status: 'revoked', revocationTime: new Date(Date.now() - 3_600_000), reason: 1 });

    const issuerFile = path.join(dir, 'intermediate-ca.pem');
    await writeFile(issuerFile, authority.intermediate.certificate.toPem());
    await writeLeafFiles(authority, certsDir, good, 'fullchain', 'good.example');
    await writeLeafFiles(authority, certsDir, revoked, 'fullchain', 'revoked.example');
    await writeLeafFiles(authority, certsDir, noOcsp, 'fullchain', 'no-ocsp.example');
    await writeLeafFiles(authority, certsDir, haproxy, 'haproxy', 'haproxy.example');
    await writeLeafFiles(authority, letsencryptDir, certbot, 'certbot', 'certbot.example');

    const config: StaplerdConfig = { ...DEFAULT_CONFIG, certs: [certsDir, path.join(letsencryptDir, 'live')], logLevel: 'warn' };
    const deps = createLiveDependencies(config, { logger: createLogger({ level: 'warn', format: 'text' }) });
    let report: PassReport;
    try {
      report = await runPass({ config, deps });
    } finally {
      await deps.close();
    }

    const kindOf = (subject: string): string | undefined => report.outcomes.find((o) => o.subject?.includes(subject))?.kind;
    const asExpected =
      kindOf('good.example') === 'written' &&
      kindOf('haproxy.example') === 'written' &&
      kindOf('certbot.example') === 'written' &&
      kindOf('revoked.example') === 'revoked' &&
      kindOf('no-ocsp.example') === 'not-applicable';
    const lines = describeDemo(dir, report, responder.url, authority.intermediate.certificate.summary.subject, issuerFile);
    options.out?.write(lines.join('\n') + '\n');
    return { dir, report, asExpected, lines };
  } finally {
    await responder.close();
  }
}

function describeDemo(dir: string, report: PassReport, responderUrl: string, issuerSubject: string, issuerFile: string): string[] {
  const lines = [`staplerd demo in ${dir}`, `  throwaway CA "${issuerSubject}", OCSP responder at ${responderUrl} (127.0.0.1 only)`, ''];
  for (const outcome of report.outcomes) {
    const name = (outcome.subject ?? '').replace(/^CN=/, '').split(',')[0];
    const files = outcome.certFiles.map((f) => path.relative(dir, f)).join(', ');
    switch (outcome.kind) {
      case 'written':
        lines.push(`  ${name.padEnd(18)} ${outcome.certStatus}: staple until ${outcome.nextUpdate?.toISOString()}`);
        for (const file of outcome.changedFiles) lines.push(`  ${''.padEnd(18)}   -> ${path.relative(dir, file)}`);
        break;
      case 'revoked':
        lines.push(`  ${name.padEnd(18)} REVOKED: ${outcome.changedFiles.length ? `revoked response stapled -> ${outcome.changedFiles.map((f) => path.relative(dir, f)).join(', ')}` : 'reported'}`);
        break;
      case 'not-applicable':
        lines.push(`  ${name.padEnd(18)} no OCSP URL: not applicable (normal since Let's Encrypt ended OCSP in 2025)`);
        break;
      default:
        lines.push(`  ${name.padEnd(18)} ${outcome.kind} ${outcome.code ?? ''} ${files}`);
    }
  }
  const sample = report.outcomes.find((o) => o.kind === 'written')?.changedFiles[0];
  if (sample) {
    lines.push('', 'Inspect a staple:', `  openssl ocsp -respin ${sample} -resp_text -noverify`);
    const certFile = report.outcomes.find((o) => o.kind === 'written')?.certFiles[0];
    if (certFile) lines.push('Validate it as staplerd does:', `  staplerd check ${sample} --cert ${certFile} --issuer ${issuerFile}`);
  }
  lines.push('', `The files stay in ${dir}; remove them with: rm -rf ${dir}`);
  return lines;
}
