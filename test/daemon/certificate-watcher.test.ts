// The daemon's watcher: settled, de-duplicated reports of certificate changes, with one inotify watch per directory
// rather than one per certificate file.
import { describe, it, expect, afterEach } from '@jest/globals';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { appendFile, mkdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { watchCertificates, type CertificateWatcher } from '../../src/daemon/certificate-watcher.js';
import { makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';

const SETTLE_MS = 150;
const dirs = removeTempDirsAfterAll();
let watcher: CertificateWatcher | undefined;

afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
});

interface Reported {
  readonly event: 'add' | 'change' | 'unlink';
  readonly path: string;
}

async function startWatching(watched: readonly string[], onReport?: (reported: Reported) => void, settleMs = SETTLE_MS): Promise<Reported[]> {
  const reported: Reported[] = [];
  watcher = watchCertificates({
    dirs: watched,
    extensions: ['.pem', '.crt'],
    settleMs,
    onChange: (event, changed) => {
      onReport?.({ event, path: changed });
      reported.push({ event, path: changed });
    },
    onError: (error) => {
      throw error;
    },
  });
  await watcher.ready;
  return reported;
}

async function newDir(): Promise<string> {
  const dir = await makeTempDir('staplerd-watch-');
  dirs.push(dir);
  return dir;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** inotify watches this process holds (libuv keeps one inotify descriptor; fdinfo lists one `inotify wd:` per watch). */
function countInotifyWatches(): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== 'anon_inode:inotify') continue;
    count += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((line) => line.startsWith('inotify wd:')).length;
  }
  return count;
}

describe('watchCertificates', () => {
  it('reports a certificate written in several steps once, after it settles', async () => {
    const dir = await newDir();
    // A settle window far longer than the gap between the writes: on a loaded CI machine a 50 ms sleep can take
    // longer than the usual 150 ms window, which made this test report the half-written file too.
    const settleMs = 1500;
    const reported = await startWatching([dir], undefined, settleMs);
    const file = path.join(dir, 'site.pem');
    await writeFile(file, 'first half');
    await sleep(50);
    await appendFile(file, ' second half');
    await until(() => reported.length > 0, 'a report');
    await sleep(settleMs * 2);
    expect(reported).toEqual([{ event: 'change', path: file }]);
  });

  it('settles ready when closed before its first scan ends, so a daemon stopped during start-up exits', async () => {
    const dir = await newDir();
    for (let i = 0; i < 200; i++) await mkdir(path.join(dir, `site-${i}`));
    const early = watchCertificates({ dirs: [dir], extensions: ['.pem'], settleMs: SETTLE_MS, onChange: () => undefined, onError: () => undefined });
    let readySettled = false;
    void early.ready.then(() => (readySettled = true));
    // chokidar emits 'ready' asynchronously, after its scan: closing at once always comes first.
    expect(readySettled).toBe(false);
    await early.close();
    // A closed chokidar watcher never emits 'ready'; before the fix this waited for ever.
    await until(() => readySettled, 'ready after close', 5_000);
    expect(readySettled).toBe(true);
  });

  it('reports a removed certificate as unlink', async () => {
    const dir = await newDir();
    const file = path.join(dir, 'old.pem');
    await writeFile(file, 'x');
    const reported = await startWatching([dir]);
    await unlink(file);
    await until(() => reported.length > 0, 'a report');
    expect(reported).toEqual([{ event: 'unlink', path: file }]);
  });

  it('ignores staples, temp files, HAProxy issuers, nginx snippets and keys', async () => {
    const dir = await newDir();
    const reported = await startWatching([dir]);
    for (const name of ['site.pem.ocsp', 'site.pem.ocsp.1a2b.tmp', 'site.pem.issuer', 'site.pem.stapling.conf', 'site.key']) {
      await writeFile(path.join(dir, name), 'x');
    }
    // Then a certificate: once it is reported, everything before it has had its chance to be.
    const certificate = path.join(dir, 'site.pem');
    await writeFile(certificate, 'x');
    await until(() => reported.length > 0, 'a report');
    await sleep(SETTLE_MS);
    expect(reported).toEqual([{ event: 'change', path: certificate }]);
  });

  it('follows a certbot renewal: the live/ symlink re-pointed by rename', async () => {
    const dir = await newDir();
    await mkdir(path.join(dir, 'archive', 'site'), { recursive: true });
    await mkdir(path.join(dir, 'live', 'site'), { recursive: true });
    await writeFile(path.join(dir, 'archive', 'site', 'fullchain1.pem'), 'one');
    const live = path.join(dir, 'live', 'site', 'fullchain.pem');
    await symlink('../../archive/site/fullchain1.pem', live);
    const reported = await startWatching([path.join(dir, 'live')]);
    await writeFile(path.join(dir, 'archive', 'site', 'fullchain2.pem'), 'two');
    await symlink('../../archive/site/fullchain2.pem', `${live}.new`);
    await rename(`${live}.new`, live);
    await until(() => reported.some((r) => r.path === live), 'the renewed live file');
    expect(reported.filter((r) => r.path === live)).toEqual([{ event: 'change', path: live }]);
  });

  it('reports a new directory once what is written into it has settled, then certificates written later', async () => {
    const dir = await newDir();
    const contentsWhenReported: string[] = [];
    const reported = await startWatching([dir], (report) => {
      if (report.event === 'add') contentsWhenReported.push(readFileSync(path.join(report.path, 'first.pem'), 'utf8'));
    });
    const site = path.join(dir, 'new-site');
    // `mkdir -p site && cat > site/first.pem` in two steps: the directory is reported once the file is complete.
    await mkdir(site);
    await writeFile(path.join(site, 'first.pem'), 'first half');
    await sleep(SETTLE_MS * 0.6);
    await appendFile(path.join(site, 'first.pem'), ', second half');
    await until(() => reported.some((r) => r.path === site), 'the new directory');
    expect(contentsWhenReported).toEqual(['first half, second half']);
    const file = path.join(site, 'fullchain.pem');
    await writeFile(file, 'x');
    await until(() => reported.some((r) => r.path === file), 'the certificate in it');
    await rm(site, { recursive: true });
    await until(() => reported.some((r) => r.path === site && r.event === 'unlink'), 'the removed directory');
  });

  it('follows a symlinked directory inside the tree to its target', async () => {
    const dir = await newDir();
    const elsewhere = await newDir();
    await symlink(elsewhere, path.join(dir, 'linked'));
    const reported = await startWatching([dir]);
    await writeFile(path.join(elsewhere, 'site.pem'), 'x');
    await until(() => reported.length > 0, 'a report');
    expect(reported).toEqual([{ event: 'change', path: path.join(dir, 'linked', 'site.pem') }]);
  });

  it('ignores the other entries of the parent of a configured directory that does not exist yet', async () => {
    const parent = await newDir();
    const site = path.join(parent, 'site');
    const reported = await startWatching([site]);
    // chokidar sets up the parent's watch shortly after `ready`.
    await sleep(SETTLE_MS * 2);
    await writeFile(path.join(parent, 'unrelated.pem'), 'x');
    await mkdir(site);
    await writeFile(path.join(site, 'site.pem'), 'x');
    await until(() => reported.some((r) => r.path.startsWith(site)), 'the configured directory');
    await sleep(SETTLE_MS * 2);
    expect(reported.filter((r) => r.path.includes('unrelated'))).toEqual([]);
  });

  it('reports changes to a certificate given directly as a file', async () => {
    const dir = await newDir();
    const file = path.join(dir, 'only.pem');
    await writeFile(file, 'one');
    const reported = await startWatching([file]);
    await writeFile(file, 'two');
    await until(() => reported.length > 0, 'a report');
    expect(reported).toEqual([{ event: 'change', path: file }]);
  });

  it('does not watch through a link to /proc, /sys or / inside a certificate directory, and names each link', async () => {
    const dir = await newDir();
    await mkdir(path.join(dir, 'live'));
    await symlink('/proc', path.join(dir, 'proc-link'));
    await symlink('/sys', path.join(dir, 'live', 'sys-link'));
    await symlink('/', path.join(dir, 'root-link'));
    const refused: string[] = [];
    const before = countInotifyWatches();
    watcher = watchCertificates({
      dirs: [dir],
      extensions: ['.pem'],
      settleMs: SETTLE_MS,
      onChange: () => {},
      onError: (error) => {
        throw error;
      },
      onRefused: (refusedDir) => refused.push(refusedDir),
    });
    await watcher.ready;
    // The tree itself (dir and live/): following the links used to add one watch per directory of the host.
    expect(countInotifyWatches() - before).toBe(2);
    expect(refused.sort()).toEqual([path.join(dir, 'live', 'sys-link'), path.join(dir, 'proc-link'), path.join(dir, 'root-link')]);
  });

  it('holds one inotify watch per directory, not one per certificate', async () => {
    const dir = await newDir();
    for (const sub of ['a', 'b', 'c']) {
      await mkdir(path.join(dir, sub));
      for (let index = 0; index < 40; index += 1) await writeFile(path.join(dir, sub, `cert-${index}.pem`), 'x');
    }
    const before = countInotifyWatches();
    await startWatching([dir]);
    // The root and its three subdirectories; 120 certificates add none.
    expect(countInotifyWatches() - before).toBe(4);
  });
});
