// Publishing a pass to the operator's hooks with real spawned commands: thousands of long paths, hostile directory
// names, and hooks that cannot start never crash the pass, never forge a line, and lose no news.
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { DEFAULT_CONFIG, type StaplerdConfig } from '../../src/config/index.js';
import { createMemoryLogger } from '../../src/log/index.js';
import { createPublishState, drainHooks, publishPassResults, type PassDependencies, type PassReport, type TargetOutcome } from '../../src/pass/index.js';
import { createHookRecorder } from '../hooks/hook-recorder.js';
import { makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';

const dirs = removeTempDirsAfterAll();
/** Linux's limit for one environment string (MAX_ARG_STRLEN). */
const MAX_ARG_STRLEN = 128 * 1024;

/** A pass whose certificates each changed one staple file (nothing to push or sync: only hooks act on it). */
function reportChanging(stapleFiles: readonly string[], kind: TargetOutcome['kind'] = 'written'): PassReport {
  const outcomes = stapleFiles.map(
    (stapleFile, index) =>
      ({ kind, certFiles: [stapleFile.replace(/\.ocsp$/, '')], stapleFiles: [stapleFile], changedFiles: [stapleFile], serialHex: index.toString(16).padStart(4, '0'), subject: `CN=${index}` }) as unknown as TargetOutcome,
  );
  return { outcomes } as unknown as PassReport;
}

async function setUp(name: string) {
  const dir = await makeTempDir('staplerd-publish-hooks-');
  dirs.push(dir);
  const recorder = await createHookRecorder(dir, name);
  const logger = createMemoryLogger();
  return { dir, recorder, logger, deps: { logger } as unknown as PassDependencies };
}

function configWith(overrides: Partial<StaplerdConfig>): StaplerdConfig {
  return { ...DEFAULT_CONFIG, issuerFiles: false, hookTimeoutMs: 20_000, ...overrides };
}

describe('publishPassResults hooks', () => {
  it('runs the update hook for 2,000 changed paths under a long directory: every path in STAPLERD_CHANGED_FILE, the line variable under the limit', async () => {
    const { recorder, deps, logger } = await setUp('many');
    const longDir = `/srv/${'very-long-directory-name-'.repeat(4)}/live`;
    const paths = Array.from({ length: 2000 }, (_, i) => `${longDir}/site-${String(i).padStart(4, '0')}.example.com/fullchain.pem.ocsp`);
    expect(Buffer.byteLength(paths.join('\n'))).toBeGreaterThan(MAX_ARG_STRLEN);
    const state = createPublishState();

    await publishPassResults(reportChanging(paths), configWith({ onUpdate: recorder.command().split(' ') }), deps, state);
    await drainHooks(state);

    const runs = await recorder.runs();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.changedFileEntries).toEqual(paths);
    expect(runs[0]!.changedCount).toBe('2000');
    const lines = runs[0]!.changed!.split('\n');
    expect(lines).toEqual(paths.slice(0, lines.length));
    expect(Number(runs[0]!.changedOmitted)).toBe(2000 - lines.length);
    expect(Buffer.byteLength(runs[0]!.changed!)).toBeLessThan(MAX_ARG_STRLEN);
    expect(logger.events.filter((e) => e.event.startsWith('hook.')).map((e) => e.event)).toEqual(['hook.update']);
  });

  it('leaves a directory name holding a newline out of STAPLERD_CHANGED and STAPLERD_REVOKED (no forged /etc/passwd line) but keeps it exact in the files', async () => {
    const { recorder, deps } = await setUp('newline');
    const hostile = '/certs/evil\n/etc/passwd';
    const staples = [`${hostile}.ocsp`, '/certs/ok.pem.ocsp'];
    const config = configWith({ onUpdate: recorder.command('update').split(' '), onRevokedCommand: recorder.command('revoked').split(' ') });
    const state = createPublishState();

    await publishPassResults(reportChanging(staples, 'revoked'), config, deps, state);
    await drainHooks(state);

    const [update, revoked] = await recorder.runs();
    expect(update).toMatchObject({ args: ['update'], changed: '/certs/ok.pem.ocsp', changedCount: '2', changedOmitted: '1', changedFileEntries: staples });
    expect(revoked).toMatchObject({ args: ['revoked'], revoked: '/certs/ok.pem', revokedCount: '2', revokedOmitted: '1', revokedFileEntries: [hostile, '/certs/ok.pem'] });
    for (const value of [update!.changed!, revoked!.revoked!]) expect(value.split('\n')).not.toContain('/etc/passwd');
  });

  it('logs HOOK_FAILED for a hook that cannot start, runs the next one, and hands it the changes the first never received', async () => {
    const { dir, recorder, deps, logger } = await setUp('retry');
    const state = createPublishState();
    const missing = configWith({ onUpdate: [path.join(dir, 'no-such-hook')] });

    await publishPassResults(reportChanging(['/certs/first.pem.ocsp']), missing, deps, state);
    await publishPassResults(reportChanging(['/certs/second.pem.ocsp']), configWith({ onUpdate: recorder.command().split(' ') }), deps, state);
    await drainHooks(state);

    expect(logger.events.filter((e) => e.event.startsWith('hook.')).map((e) => [e.event, e.fields.code])).toEqual([
      ['hook.update_failed', 'HOOK_FAILED'],
      ['hook.update', undefined],
    ]);
    expect((await recorder.runs()).map((run) => run.changedFileEntries)).toEqual([['/certs/first.pem.ocsp', '/certs/second.pem.ocsp']]);
  });

  it('hands the paths of a hook that ran and failed to the next pass, which runs the hook for them even when it changed nothing, and saves what is owed', async () => {
    const { recorder, deps } = await setUp('failed-then-idle');
    const saved: string[][] = [];
    const state = createPublishState([], { undelivered: ['/certs/earlier.pem.ocsp'], saveUndelivered: async (paths) => void saved.push([...paths]) });

    await publishPassResults(reportChanging(['/certs/a.pem.ocsp']), configWith({ onUpdate: ['sh', '-c', 'exit 1'] }), deps, state);
    await drainHooks(state);
    await publishPassResults(reportChanging([]), configWith({ onUpdate: recorder.command().split(' ') }), deps, state);
    await drainHooks(state);
    await publishPassResults(reportChanging([]), configWith({ onUpdate: recorder.command().split(' ') }), deps, state);
    await drainHooks(state);

    expect((await recorder.runs()).map((run) => run.changedFileEntries)).toEqual([['/certs/a.pem.ocsp', '/certs/earlier.pem.ocsp']]);
    expect(saved).toEqual([['/certs/a.pem.ocsp', '/certs/earlier.pem.ocsp'], []]);
  });

  it('never rejects the hook queue, even when the environment cannot be passed (spawn E2BIG)', async () => {
    const { recorder, deps, logger } = await setUp('e2big');
    const state = createPublishState();
    const previous = process.env.STAPLERD_TEST_HUGE;
    process.env.STAPLERD_TEST_HUGE = 'x'.repeat(200 * 1024);
    try {
      await publishPassResults(reportChanging(['/certs/a.pem.ocsp']), configWith({ onUpdate: recorder.command().split(' ') }), deps, state);
      await expect(drainHooks(state)).resolves.toBeUndefined();
    } finally {
      if (previous === undefined) delete process.env.STAPLERD_TEST_HUGE;
      else process.env.STAPLERD_TEST_HUGE = previous;
    }
    expect(logger.events.filter((e) => e.event === 'hook.update_failed').map((e) => [e.fields.code, /E2BIG/.test(e.message)])).toEqual([['HOOK_FAILED', true]]);
    expect(state.unreportedChanges).toEqual(new Set(['/certs/a.pem.ocsp']));
  });

  it('tells the revoked hook again at the next pass when it could not start the first time', async () => {
    const { dir, recorder, deps } = await setUp('revoked-retry');
    const state = createPublishState();
    const report = reportChanging(['/certs/r.pem.ocsp'], 'revoked');

    await publishPassResults(report, configWith({ onRevokedCommand: [path.join(dir, 'no-such-hook')] }), deps, state);
    await drainHooks(state);
    await publishPassResults(report, configWith({ onRevokedCommand: recorder.command().split(' ') }), deps, state);
    await drainHooks(state);

    expect((await recorder.runs()).map((run) => run.revokedFileEntries)).toEqual([['/certs/r.pem']]);
  });
});
