// nginx: keeps each staple's include snippet in step with the staple, so `include` never breaks a reload.
import { access } from 'node:fs/promises';
import type { AfterPassContext, ServedCertificate, ServerContext, StapleServer } from '../staple-server.js';
import { guardStep } from '../guard-step.js';
import { nginxSnippetPath, syncNginxSnippet } from './nginx-snippet.js';

export function createNginxServer(): StapleServer {
  return { name: 'nginx', beforeRemove: switchSnippetOff, afterPass: syncSnippets };
}

/**
 * nginx refuses to reload while an `ssl_stapling_file` names a missing file, and a reload may come at any moment
 * (another hook, an operator), not only after the pass: the snippet is switched off before the staple goes.
 * Publishing after the pass then finds it already off.
 */
async function switchSnippetOff(stapleFile: string, ctx: ServerContext): Promise<void> {
  if (ctx.config.nginxSnippets && (await syncNginxSnippet(stapleFile, undefined))) {
    ctx.logger.log('info', 'nginx.snippet_written', 'nginx snippet disables stapling', { staple: stapleFile });
  }
}

async function syncSnippets(certificates: readonly ServedCertificate[], ctx: AfterPassContext): Promise<void> {
  if (!ctx.config.nginxSnippets) return;
  for (const certificate of certificates) {
    if (!certificate.files) {
      await writeSnippetsWithoutJudgement(certificate, ctx);
      continue;
    }
    for (const file of certificate.files) {
      await guardStep(ctx.logger, 'nginx.snippet_failed', file.stapleFile, async () => {
        if (await syncNginxSnippet(file.stapleFile, file.staple)) {
          ctx.noteChanged(nginxSnippetPath(file.stapleFile));
          ctx.logger.log('info', 'nginx.snippet_written', file.staple ? 'nginx snippet enables stapling' : 'nginx snippet disables stapling', { staple: file.stapleFile });
        }
      });
    }
  }
}

/**
 * `include` of a missing file breaks nginx's reload, so every certificate gets a snippet. Without a judgement on the
 * staple (no issuer), an existing snippet is left as it is; otherwise stapling is off.
 */
async function writeSnippetsWithoutJudgement(certificate: ServedCertificate, ctx: AfterPassContext): Promise<void> {
  const leaveExisting = certificate.kind === 'failed';
  for (const stapleFile of certificate.stapleFiles) {
    await guardStep(ctx.logger, 'nginx.snippet_failed', stapleFile, async () => {
      if (leaveExisting && (await fileExists(nginxSnippetPath(stapleFile)))) return;
      if (await syncNginxSnippet(stapleFile, undefined)) ctx.noteChanged(nginxSnippetPath(stapleFile));
    });
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
