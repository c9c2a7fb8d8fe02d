// Discovery as a stream: which leaves may be handed on before every file is parsed, and which wait for the whole tree.
import { describe, it, expect } from '@jest/globals';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StaplerdConfig } from '../../src/config/index.js';
import { DEFAULT_CERTIFICATE_FILE_LIMITS, type CandidateFile } from '../../src/discovery/index.js';
import type { StapleTarget } from '../../src/pass/collect-targets.js';
import { discoverTargets } from '../../src/pass/discover-targets.js';
import { planDiscovery } from '../../src/pass/plan-discovery.js';
import { makeTempDir } from '../helpers/test-pki.js';
import { OCSP_URL, T0, usePassSuite } from './pass-fixture.js';

const suite = usePassSuite();

/** Writes `name` holding these PEM texts in this order; returns its path. */
async function writeBundle(dir: string, name: string, pems: readonly string[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, pems.join(''));
  return file;
}

/** The plan at T0 with the default file limits; `onStapleMissing` hears when the pass is judged cold. */
function planAt(candidates: readonly CandidateFile[], config: StaplerdConfig, onStapleMissing?: () => void): ReturnType<typeof planDiscovery> {
  return planDiscovery(candidates, config, { now: T0, limits: DEFAULT_CERTIFICATE_FILE_LIMITS, onStapleMissing });
}

describe('planDiscovery', () => {
  it('releases a leaf when the last file starting with it is parsed, and never one a file holds further down', async () => {
    const config = await suite.configFor();
    const dir = config.certs[0]!;
    const ca = suite.pki.authority.intermediate.certificate.toPem();
    const [one, two, three] = await Promise.all(['one', 'two', 'three'].map((name) => suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], commonName: `${name}.test` })));
    const files = [
      await writeBundle(dir, 'a.pem', [one!.certificate.toPem(), ca]),
      await writeBundle(dir, 'b.pem', [one!.certificate.toPem(), ca]),
      // A hand-made bundle with its CA first: leaf two is not first here, so two waits for the whole tree.
      await writeBundle(dir, 'c.pem', [ca, two!.certificate.toPem()]),
      await writeBundle(dir, 'd.pem', [two!.certificate.toPem()]),
      await writeBundle(dir, 'e.pem', [three!.certificate.toPem()]),
    ];
    const plan = await planAt(files.map((file) => ({ file, certsRoot: dir })), config);
    const fingerprint = (leaf: typeof one) => leaf!.certificate.summary.fingerprintSha256;
    expect(files.map((_, index) => plan.release(index))).toEqual([undefined, fingerprint(one), undefined, undefined, fingerprint(three)]);
    expect(plan.stapleFiles).toEqual(files.map((file) => `${file}.ocsp`));
    expect(plan.expectedTargets).toBe(2);
  });

  it('marks a staple path that two files under different roots mirror to under --out as contested', async () => {
    const out = await makeTempDir();
    suite.dirs.push(out);
    const config = await suite.configFor({ out });
    const [rootA, rootB] = [await makeTempDir(), await makeTempDir()];
    suite.dirs.push(rootA, rootB);
    const leaf = (await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL] })).certificate.toPem();
    const candidates = [
      { file: await writeBundle(rootA, 'site.pem', [leaf]), certsRoot: rootA },
      { file: await writeBundle(rootB, 'site.pem', [leaf]), certsRoot: rootB },
      { file: await writeBundle(rootB, 'other.pem', [leaf]), certsRoot: rootB },
    ];
    const plan = await planAt(candidates, config);
    expect(plan.stapleFiles).toEqual([path.join(out, 'site.pem.ocsp'), path.join(out, 'site.pem.ocsp'), path.join(out, 'other.pem.ocsp')]);
    expect(plan.stapleFiles.map((file) => plan.isContested(file))).toEqual([true, true, false]);
  });

  it('reads no file first when the first candidates all have staples (a warm pass), and releases nothing early', async () => {
    const config = await suite.configFor();
    const dir = config.certs[0]!;
    const ca = suite.pki.authority.intermediate.certificate.toPem();
    const leaf = (await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL] })).certificate.toPem();
    const files = [await writeBundle(dir, 'a.pem', [leaf, ca]), await writeBundle(dir, 'b.pem', [leaf, ca])];
    for (const file of files) await writeFile(`${file}.ocsp`, 'a staple');
    let told = 0;
    const plan = await planAt(files.map((file) => ({ file, certsRoot: dir })), config, () => told++);
    expect({ streaming: plan.streaming, told, released: files.map((_, index) => plan.release(index)), kept: files.map((_, index) => plan.takeBytes(index)) })
      .toEqual({ streaming: false, told: 0, released: [undefined, undefined], kept: [undefined, undefined] });
    expect(plan.stapleFiles).toEqual(files.map((file) => `${file}.ocsp`));
    // One staple missing among the first candidates: the files are read first and the pass is told a fetch is coming.
    await rm(`${files[1]}.ocsp`);
    const cold = await planAt(files.map((file) => ({ file, certsRoot: dir })), config, () => told++);
    expect({ streaming: cold.streaming, told, kept: cold.takeBytes(0) !== undefined }).toEqual({ streaming: true, told: 1, kept: true });
  });

  it('counts only files a staple is fetched for: CA bundles, keys, leaves without OCSP or expired still make a warm pass', async () => {
    const config = await suite.configFor();
    const dir = config.certs[0]!;
    const ca = suite.pki.authority.intermediate.certificate.toPem();
    const leaf = (await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL] })).certificate.toPem();
    const withoutOcsp = (await suite.pki.issueLeaf({ ocspUrls: [] })).certificate.toPem();
    const daysBefore = (days: number): Date => new Date(T0.getTime() - days * 86_400_000);
    const expired = (await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], notBefore: daysBefore(2), notAfter: daysBefore(1) })).certificate.toPem();
    // certbot's layout sorts chain.pem and privkey.pem before and after cert.pem; none of these ever gets a staple.
    const files = [
      await writeBundle(dir, 'a-chain.pem', [ca]),
      await writeBundle(dir, 'b-cert.pem', [leaf]),
      await writeBundle(dir, 'c-privkey.pem', ['-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n']),
      await writeBundle(dir, 'c-lets-encrypt.pem', [withoutOcsp, ca]),
      await writeBundle(dir, 'c-old.pem', [expired, ca]),
      await writeBundle(dir, 'd-fullchain.pem', [leaf, ca]),
    ];
    for (const file of [files[1]!, files[5]!]) await writeFile(`${file}.ocsp`, 'a staple');
    let told = 0;
    const candidates = files.map((file) => ({ file, certsRoot: dir }));
    const warm = await planAt(candidates, config, () => told++);
    expect({ streaming: warm.streaming, told }).toEqual({ streaming: false, told: 0 });
    // A file that cannot be parsed is the parse's to report: it does not make the pass cold either.
    const broken = await writeBundle(dir, 'c-broken.pem', ['-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n']);
    const withBroken = [...candidates, { file: broken, certsRoot: dir }];
    expect((await planAt(withBroken, config)).streaming).toBe(false);
    // With --responder every leaf is asked there, so the one without an OCSP URL is due a staple.
    const withResponder = await suite.configFor({ responder: OCSP_URL });
    expect((await planAt(candidates, withResponder)).streaming).toBe(true);
    // The leaf file's staple gone: now a fetch is coming, whatever the leafless files around it lack.
    await rm(`${files[5]}.ocsp`);
    const cold = await planAt(candidates, config, () => told++);
    expect({ streaming: cold.streaming, told }).toEqual({ streaming: true, told: 1 });
  });

  it('gives a file it cannot read no first certificate, so nothing waits for it', async () => {
    const config = await suite.configFor();
    const dir = config.certs[0]!;
    const missing = path.join(dir, 'gone.pem');
    // A leaf without a staple first, so the plan reads every file first.
    const leaf = await writeBundle(dir, 'a.pem', [(await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL] })).certificate.toPem()]);
    const plan = await planAt([leaf, missing].map((file) => ({ file, certsRoot: dir })), config);
    expect({ streaming: plan.streaming, expectedTargets: plan.expectedTargets }).toEqual({ streaming: true, expectedTargets: 1 });
    expect(plan.release(1)).toBeUndefined();
  });
});

describe('discoverTargets', () => {
  it('hands a leaf on before the files after it are parsed', async () => {
    const config = await suite.configFor();
    const dir = config.certs[0]!;
    const ca = suite.pki.authority.intermediate.certificate.toPem();
    // Enough files that parsing them all takes far longer than resolving the first leaf's issuer, and big enough
    // (text around the PEM blocks, as `openssl x509 -text` leaves) that the plan keeps only the first ones' bytes
    // (its 4 MiB budget): the last file is read again when it is parsed.
    const padding = `${'explanatory text, not a certificate\n'.repeat(1000)}`;
    const leaves = await Promise.all(Array.from({ length: 150 }, (_, index) => suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], commonName: `leaf-${index}.test` })));
    for (const [index, leaf] of leaves.entries()) await writeBundle(dir, `leaf-${String(index).padStart(3, '0')}.pem`, [padding, leaf.certificate.toPem(), ca]);
    const last = path.join(dir, 'leaf-149.pem');
    const targets: StapleTarget[] = [];
    const discovered = await discoverTargets(config, {
      now: T0,
      onTarget: (target) => {
        // Removed when the first target arrives: if discovery had parsed everything first, the file would be a target.
        if (targets.push(target) === 1) void rm(last);
      },
    });
    expect(targets[0]!.files.map((file) => file.certFile)).toEqual([path.join(dir, 'leaf-000.pem')]);
    expect(discovered.problems.map((problem) => [problem.certFile, problem.error.code])).toEqual([[last, 'CERT_UNREADABLE']]);
    expect(discovered.targetCount).toBe(149);
  });

  it('parses no further file after the first target until the HTTP client has loaded, so the first request goes first', async () => {
    const config = await suite.configFor();
    const dir = config.certs[0]!;
    const ca = suite.pki.authority.intermediate.certificate.toPem();
    const leaves = await Promise.all(Array.from({ length: 3 }, (_, index) => suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], commonName: `leaf-${index}.test` })));
    for (const [index, leaf] of leaves.entries()) await writeBundle(dir, `leaf-${index}.pem`, [leaf.certificate.toPem(), ca]);
    let loaded!: () => void;
    const loading = new Promise<void>((resolve) => (loaded = resolve));
    const arrived: number[] = [];
    const discovering = discoverTargets(config, { now: T0, onFetchLikely: () => loading, onTarget: (_, order) => arrived.push(order) });
    for (const deadline = Date.now() + 10_000; arrived.length === 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 10));
    // Many event-loop turns later, still only the first target: the parse waits for the client.
    for (let turn = 0; turn < 10; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(arrived).toEqual([0]);
    loaded();
    await discovering;
    expect(arrived.sort()).toEqual([0, 1, 2]);
  });

  it('parses the --certs roots in turn, so the leaf of a later root does not wait for every file of the first', async () => {
    // Named so the second root's file sorts last in discovery order, whatever the temp directory is called.
    const parent = await makeTempDir();
    suite.dirs.push(parent);
    const [first, second] = [path.join(parent, 'a-first'), path.join(parent, 'b-second')];
    await Promise.all([mkdir(first), mkdir(second)]);
    const config = await suite.configFor({ certs: [first, second] });
    const ca = suite.pki.authority.intermediate.certificate.toPem();
    const leaves = await Promise.all(Array.from({ length: 31 }, (_, index) => suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], commonName: `leaf-${index}.test` })));
    for (const [index, leaf] of leaves.slice(0, 30).entries()) await writeBundle(first, `leaf-${String(index).padStart(2, '0')}.pem`, [leaf.certificate.toPem(), ca]);
    const later = await writeBundle(second, 'other.pem', [leaves[30]!.certificate.toPem(), ca]);
    const arrived: { file: string; order: number }[] = [];
    await discoverTargets(config, { now: T0, onTarget: (target, order) => arrived.push({ file: target.files[0]!.certFile, order }) });
    expect(arrived).toHaveLength(31);
    // Handed on among the first few (its file is parsed second), yet last in discovery order.
    expect(arrived.findIndex(({ file }) => file === later)).toBeLessThan(5);
    expect(arrived.find(({ file }) => file === later)?.order).toBe(30);
  });

  it('makes one target of a leaf that a bundle holds after its CA and another file holds first', async () => {
    const config = await suite.configFor();
    const dir = config.certs[0]!;
    const leaf = await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL] });
    const ca = suite.pki.authority.intermediate.certificate.toPem();
    const bundle = await writeBundle(dir, 'a-bundle.pem', [ca, leaf.certificate.toPem()]);
    const plain = await writeBundle(dir, 'b-leaf.pem', [leaf.certificate.toPem()]);
    const targets: { target: StapleTarget; order: number }[] = [];
    await discoverTargets(config, { now: T0, onTarget: (target, order) => targets.push({ target, order }) });
    expect(targets.map(({ target, order }) => [order, target.files.map((file) => file.certFile), target.issuer?.source])).toEqual([[0, [bundle, plain], 'file']]);
  });

  it('on a warm pass (staples on disk) still makes one target of a leaf found in two files, handed on at the end', async () => {
    const config = await suite.configFor();
    const dir = config.certs[0]!;
    const ca = suite.pki.authority.intermediate.certificate.toPem();
    const [one, two] = await Promise.all(['one', 'two'].map((name) => suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], commonName: `${name}.test` })));
    const files = [
      await writeBundle(dir, 'a.pem', [one!.certificate.toPem(), ca]),
      await writeBundle(dir, 'b.pem', [two!.certificate.toPem(), ca]),
      await writeBundle(dir, 'c.pem', [one!.certificate.toPem(), ca]),
    ];
    for (const file of files) await writeFile(`${file}.ocsp`, 'a staple');
    const targets: { files: string[]; order: number }[] = [];
    const discovered = await discoverTargets(config, { now: T0, onTarget: (target, order) => targets.push({ files: target.files.map((file) => file.certFile), order }) });
    // Handed on concurrently at the end, so they may arrive in any order; `order` is what places them.
    expect(targets.sort((a, b) => a.order - b.order)).toEqual([{ files: [files[0], files[2]], order: 0 }, { files: [files[1]], order: 1 }]);
    expect(discovered.targetCount).toBe(2);
  });

  it('refuses both certificates that mirror to one staple path under --out, and hands on their other files', async () => {
    const out = await makeTempDir();
    const [rootA, rootB] = [await makeTempDir(), await makeTempDir()];
    suite.dirs.push(out, rootA, rootB);
    const config = await suite.configFor({ out, certs: [rootA, rootB] });
    const [first, second] = await Promise.all(['first', 'second'].map((name) => suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], commonName: `${name}.test` })));
    const ca = suite.pki.authority.intermediate.certificate.toPem();
    const clashA = await writeBundle(rootA, 'site.pem', [first!.certificate.toPem(), ca]);
    const clashB = await writeBundle(rootB, 'site.pem', [second!.certificate.toPem(), ca]);
    const alsoFirst = await writeBundle(rootB, 'copy.pem', [first!.certificate.toPem(), ca]);
    const targets: StapleTarget[] = [];
    const discovered = await discoverTargets(config, { now: T0, onTarget: (target) => targets.push(target) });
    expect(discovered.problems.map((problem) => [problem.certFile, problem.error.code, problem.staleStapleFile])).toEqual([
      [clashA, 'OUTPUT_CONFLICT', path.join(out, 'site.pem.ocsp')],
      [clashB, 'OUTPUT_CONFLICT', path.join(out, 'site.pem.ocsp')],
    ]);
    expect(targets.map((target) => target.files)).toEqual([[{ certFile: alsoFirst, stapleFile: path.join(out, 'copy.pem.ocsp') }]]);
  });
});
