// Publishing a pass to servers through the StapleServer interface: every server hears of every outcome, a server that
// fails costs the others nothing, and what a server changed reaches the update hook.
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { createMemoryLogger } from '../../src/log/index.js';
import { createPublishState, drainHooks, publishPassResults, type PassDependencies, type PassReport, type TargetOutcome } from '../../src/pass/index.js';
import type { ServedCertificate, StapleServer } from '../../src/servers/index.js';
import { createHookRecorder } from '../hooks/hook-recorder.js';
import { makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';

const dirs = removeTempDirsAfterAll();

function reportWriting(stapleFile: string): PassReport {
  const outcome = { kind: 'written', certFiles: [stapleFile.replace(/\.ocsp$/, '')], stapleFiles: [stapleFile], changedFiles: [stapleFile] } as unknown as TargetOutcome;
  return { outcomes: [outcome] } as unknown as PassReport;
}

describe('publishPassResults servers', () => {
  it('tells the next server after one that threw, and logs the failure as INTERNAL naming the server', async () => {
    const logger = createMemoryLogger();
    const seen: (readonly ServedCertificate[])[] = [];
    const broken: StapleServer = { name: 'broken', afterPass: async () => { throw new Error('bug'); } };
    const recording: StapleServer = { name: 'recording', afterPass: async (certificates) => void seen.push(certificates) };
    const report = reportWriting('/certs/a.pem.ocsp');

    await publishPassResults(report, DEFAULT_CONFIG, { logger } as unknown as PassDependencies, createPublishState([broken, recording]));

    expect(seen).toEqual([report.outcomes]);
    expect(logger.events.filter((e) => e.event === 'server.after_pass_failed').map((e) => ({ code: e.fields.code, server: e.fields.server }))).toEqual([{ code: 'INTERNAL', server: 'broken' }]);
  });

  it('hands the files a server changed to the update hook with the staples', async () => {
    const dir = await makeTempDir('staplerd-publish-servers-');
    dirs.push(dir);
    const recorder = await createHookRecorder(dir, 'servers');
    const snippet: StapleServer = { name: 'snippets', afterPass: async (_certificates, ctx) => ctx.noteChanged('/certs/a.pem.stapling.conf') };
    const state = createPublishState([snippet]);
    const config = { ...DEFAULT_CONFIG, issuerFiles: false, onUpdate: recorder.command().split(' ') };

    await publishPassResults(reportWriting('/certs/a.pem.ocsp'), config, { logger: createMemoryLogger() } as unknown as PassDependencies, state);
    await drainHooks(state);

    const [run] = await recorder.runs();
    expect(run?.changedFileEntries).toEqual(['/certs/a.pem.ocsp', '/certs/a.pem.stapling.conf']);
  });
});
