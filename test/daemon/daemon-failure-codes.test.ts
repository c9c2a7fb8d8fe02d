// `run`: its own failures (state dir, metrics rebind) carry their own codes and are logged at their table level.
import { afterEach, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { StapleDaemon } from '../../src/daemon/index.js';
import { ERROR_CODES } from '../../src/errors/index.js';
import { createMemoryLogger } from '../../src/log/index.js';
import { ManualClock } from '../helpers/fake-http.js';
import { makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';

/** Midnight on 1 January: the safety-net sweep never fires during a test run. */
const SWEEP_NEVER = '0 0 1 1 *';
const dirs = removeTempDirsAfterAll();
const daemons: StapleDaemon[] = [];

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((daemon) => daemon.stop()));
});

describe('StapleDaemon with a state dir that is a regular file', () => {
  it('logs STATE_READ_FAILED for every state file and STATE_WRITE_FAILED, at their table level, and keeps running', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    const stateDir = path.join(dir, 'state-is-a-file');
    await writeFile(stateDir, 'not a directory\n');
    const logger = createMemoryLogger();
    const noHttp = { request: () => Promise.reject(new Error('no request expected')) };
    const daemon = new StapleDaemon({ ...DEFAULT_CONFIG, certs: [dir], stateDir, sweep: SWEEP_NEVER }, { clock: new ManualClock(new Date('2031-03-01T12:00:00Z')), random: () => 0.5, logger, http: noHttp });
    daemons.push(daemon);

    await daemon.start();

    // history.json and both validation caches: three files that cannot be opened, none of them corrupt.
    const reads = logger.events.filter((e) => e.event === 'state.corrupt');
    expect(reads.map((e) => [path.basename(String(e.fields.file)), e.level, e.fields.code]).sort()).toEqual(
      ['decoded-facts.bin', 'history.json', 'verified-signatures.bin'].map((name) => [name, ERROR_CODES.STATE_READ_FAILED.level, 'STATE_READ_FAILED']),
    );
    const saves = logger.events.filter((e) => e.event === 'state.save_failed');
    expect(saves).toEqual([expect.objectContaining({ level: ERROR_CODES.STATE_WRITE_FAILED.level, fields: expect.objectContaining({ code: 'STATE_WRITE_FAILED' }) })]);
    expect(logger.events.some((e) => e.event === 'daemon.ready')).toBe(true);
  });
});
