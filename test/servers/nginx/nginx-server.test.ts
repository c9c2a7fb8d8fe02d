// The nginx server: its snippet is switched off before a staple goes, and only when snippets are asked for.
import { describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CONFIG } from '../../../src/config/index.js';
import { createMemoryLogger } from '../../../src/log/index.js';
import { createNginxServer, nginxSnippetPath } from '../../../src/servers/nginx/index.js';
import { makeTempDir, removeTempDirsAfterAll } from '../../helpers/test-pki.js';

const dirs = removeTempDirsAfterAll();
const ENABLED = 'ssl_stapling_file';

async function stapleWithEnabledSnippet(): Promise<string> {
  const dir = await makeTempDir('staplerd-nginx-server-');
  dirs.push(dir);
  const stapleFile = path.join(dir, 'site.pem.ocsp');
  await writeFile(nginxSnippetPath(stapleFile), `ssl_stapling on;\n${ENABLED} ${stapleFile};\n`);
  return stapleFile;
}

describe('nginx server beforeRemove', () => {
  it('switches the snippet off before the staple goes, so a reload never names a missing file', async () => {
    const stapleFile = await stapleWithEnabledSnippet();
    const logger = createMemoryLogger();

    await createNginxServer().beforeRemove!(stapleFile, { config: { ...DEFAULT_CONFIG, nginxSnippets: true }, logger });

    expect(await readFile(nginxSnippetPath(stapleFile), 'utf8')).not.toContain(ENABLED);
    expect(logger.events.map((e) => e.event)).toEqual(['nginx.snippet_written']);
  });

  it('leaves the snippet alone when nginx snippets are not asked for', async () => {
    const stapleFile = await stapleWithEnabledSnippet();

    await createNginxServer().beforeRemove!(stapleFile, { config: { ...DEFAULT_CONFIG, nginxSnippets: false }, logger: createMemoryLogger() });

    expect(await readFile(nginxSnippetPath(stapleFile), 'utf8')).toContain(ENABLED);
  });
});
