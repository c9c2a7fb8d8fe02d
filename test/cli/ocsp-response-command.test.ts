// The daemon's --out staple path for a single certificate file (H2O's exit statuses: test/servers/h2o/).
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { singleFileOutDir } from '../../src/cli/commands/ocsp-response-command.js';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { stapleOutputPath } from '../../src/output/staple-paths.js';

describe('singleFileOutDir', () => {
  const root = path.resolve('/srv/certs');
  const cert = path.join(root, 'live', 'example.com', 'fullchain.pem');

  it('is undefined without out: the staple goes beside the certificate', () => {
    expect(singleFileOutDir({ ...DEFAULT_CONFIG, certs: [root] }, cert)).toBeUndefined();
  });

  it('with out and a certs root holding the file, names the directory of the daemon\'s mirrored staple', () => {
    const out = path.resolve('/var/lib/staples');
    const dir = singleFileOutDir({ ...DEFAULT_CONFIG, certs: [path.resolve('/elsewhere'), root], out }, cert);
    // A pass over the file alone puts its staple at <dir>/<basename>.ocsp: that must be the daemon's path.
    expect(path.join(dir!, 'fullchain.pem.ocsp')).toBe(stapleOutputPath(cert, { certsRoot: root, outDir: out }));
    expect(dir).toBe(path.join(out, 'live', 'example.com'));
  });

  it('with out and no root holding the file, keeps out (the staple is <out>/<basename>.ocsp)', () => {
    const out = path.resolve('/var/lib/staples');
    expect(singleFileOutDir({ ...DEFAULT_CONFIG, certs: [path.resolve('/elsewhere')], out }, cert)).toBe(out);
  });
});
