// The suite's own isolation: code that resolves the default state dir, in-process or in a spawned staplerd, lands in
// a temp dir of this run, never in the machine's /var/lib/staplerd (root's default) or the user's ~/.local/state.
import { describe, it, expect } from '@jest/globals';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { resolveStateDir } from '../../src/state/index.js';
import { withStateDirArgument } from '../helpers/run-cli.js';

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(realpathSync(parent), realpathSync(child));
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

describe('state dir isolation of the test suite', () => {
  it('resolves the default state dir of in-process code (StapleDaemon, once) to a temp dir of this run', () => {
    const resolved = resolveStateDir(DEFAULT_CONFIG.stateDir);
    expect(resolved).not.toBe('/var/lib/staplerd');
    expect(isInside(resolved, tmpdir())).toBe(true);
  });

  it('gives each test file its own state dir, inside the run\'s root', () => {
    const root = process.env.STAPLERD_TEST_STATE_ROOT;
    expect(root).toBeDefined();
    expect(isInside(process.env.STATE_DIRECTORY!, root!)).toBe(true);
  });
});

describe('withStateDirArgument', () => {
  it('adds --state-dir to once, run and status when the test gave none', () => {
    for (const command of ['once', 'run', 'status']) {
      expect(withStateDirArgument([command, '--certs', '/c'], '/tmp/s')).toEqual([command, '--certs', '/c', '--state-dir', '/tmp/s']);
    }
  });

  it('keeps a --state-dir the test gave, in either spelling', () => {
    expect(withStateDirArgument(['once', '--state-dir', '/mine'], '/tmp/s')).toEqual(['once', '--state-dir', '/mine']);
    expect(withStateDirArgument(['once', '--state-dir=/mine'], '/tmp/s')).toEqual(['once', '--state-dir=/mine']);
  });

  it('leaves commands without a state dir alone (check, demo, --help)', () => {
    expect(withStateDirArgument(['check', 'a.ocsp'], '/tmp/s')).toEqual(['check', 'a.ocsp']);
    expect(withStateDirArgument(['--help'], '/tmp/s')).toEqual(['--help']);
  });
});
