// HAProxy: `<crt>.issuer` beside certificates whose issuer is not in the PEM, and runtime pushes of changed staples.
import type { StaplerdError } from '../../errors/index.js';
import { toStaplerdError } from '../../errors/index.js';
import { logFailure } from '../../log/index.js';
import { resolveStateDir } from '../../state/state-dir.js';
import { guardStep } from '../guard-step.js';
import type { AfterPassContext, ServedCertificate, StapleServer } from '../staple-server.js';
import { parseHaproxySocket, pushOcspResponse } from './haproxy-runtime.js';
import { syncIssuerFile } from './issuer-file.js';
import { loadPendingPushes, updatePendingPushes } from './pending-pushes.js';

export interface HaproxyServer extends StapleServer {
  /**
   * Staple files whose push failed: retried at the next pass even if the staple did not change. Merged with the
   * state dir's list at every pass, so a push another process (an earlier `once`) owes is delivered too.
   */
  readonly pendingPushes: Set<string>;
}

/** Codes after which a socket is skipped for the rest of the pass (see pushChangedStaples). */
const UNUSABLE_SOCKET_CODES: ReadonlySet<string> = new Set(['HAPROXY_TIMEOUT', 'HAPROXY_REPLY_TOO_LARGE']);

export function createHaproxyServer(): HaproxyServer {
  const pendingPushes = new Set<string>();
  return {
    name: 'haproxy',
    pendingPushes,
    afterPass: async (certificates, ctx) => {
      await syncIssuerFiles(certificates, ctx);
      if (ctx.config.haproxySockets.length > 0) await pushChangedStaples(certificates, ctx, pendingPushes);
    },
  };
}

async function syncIssuerFiles(certificates: readonly ServedCertificate[], ctx: AfterPassContext): Promise<void> {
  if (!ctx.config.issuerFiles) return;
  for (const certificate of certificates) {
    const { issuerPem, issuerSource } = certificate;
    if (!issuerPem || !issuerSource || issuerSource === 'file') continue;
    for (const file of certificate.files ?? []) {
      await guardStep(ctx.logger, 'issuer_file.failed', file.certFile, async () => {
        if (await syncIssuerFile(file.certFile, issuerPem)) {
          ctx.logger.log('info', 'issuer_file.written', 'wrote <crt>.issuer for HAProxy', { file: file.certFile, source: issuerSource });
        }
      });
    }
  }
}

/** Pushes changed staples and owed ones; saves what is owed afterwards in the state dir, shared with other processes. */
async function pushChangedStaples(certificates: readonly ServedCertificate[], ctx: AfterPassContext, pendingPushes: Set<string>): Promise<void> {
  const stateDir = resolveStateDir(ctx.config.stateDir);
  for (const staple of await loadPendingPushes(stateDir)) pendingPushes.add(staple);
  const pendingBefore = new Set(pendingPushes);
  // A socket that did not answer in time, or streamed more than a reply, is not asked again in this pass: a listener
  // that accepts and says nothing would otherwise hold the pass for --timeout per staple. Its pushes are owed.
  const unusableSockets = new Map<string, StaplerdError>();
  for (const certificate of certificates) {
    for (const file of certificate.files ?? []) {
      if (file.staple && (file.changed || pendingPushes.has(file.stapleFile))) {
        const delivered = await pushToSockets(file.stapleFile, file.staple.der, ctx, unusableSockets);
        if (delivered) pendingPushes.delete(file.stapleFile);
        else pendingPushes.add(file.stapleFile);
      }
    }
  }
  const owed = [...pendingPushes].filter((staple) => !pendingBefore.has(staple));
  const delivered = [...pendingBefore].filter((staple) => !pendingPushes.has(staple));
  if (owed.length > 0 || delivered.length > 0) {
    // The owed-push list is state, not a staple: its save failing is STATE_WRITE_FAILED (warn), as for the history.
    await guardStep(ctx.logger, 'state.save_failed', stateDir, () => updatePendingPushes(stateDir, { owed, delivered }).then(() => undefined), 'STATE_WRITE_FAILED');
  }
}

/** Pushes one staple to every socket; true when all took it. */
async function pushToSockets(stapleFile: string, der: Uint8Array, ctx: AfterPassContext, unusableSockets: Map<string, StaplerdError>): Promise<boolean> {
  let failed = false;
  for (const socket of ctx.config.haproxySockets) {
    const earlier = unusableSockets.get(socket);
    if (earlier) {
      failed = true;
      ctx.logger.log('warn', 'haproxy.push_failed', `not pushed: the socket failed earlier in this pass (${earlier.message})`, { staple: stapleFile, socket, code: earlier.code });
      continue;
    }
    try {
      await pushOcspResponse(parseHaproxySocket(socket), der, { timeoutMs: ctx.config.timeoutMs, file: stapleFile });
      ctx.logger.log('info', 'haproxy.pushed', 'staple pushed to HAProxy', { staple: stapleFile, socket });
    } catch (thrown) {
      failed = true;
      const error = toStaplerdError(thrown, 'HAPROXY_PUSH_FAILED', { file: stapleFile });
      if (UNUSABLE_SOCKET_CODES.has(error.code)) unusableSockets.set(socket, error);
      // The file is written either way: HAProxy loads it at its next start; the push is retried at the next pass.
      logFailure(ctx.logger, 'haproxy.push_failed', error, { staple: stapleFile, socket });
    }
  }
  return !failed;
}
