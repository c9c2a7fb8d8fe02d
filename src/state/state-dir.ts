// Where staplerd keeps its state: --state-dir, else systemd's StateDirectory, else a per-user local directory.
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * systemd sets STATE_DIRECTORY (colon-separated when several are configured) for units with StateDirectory=
 * (systemd.exec(5)). Outside systemd root gets /var/lib/staplerd and other users the XDG state directory; never a
 * temp dir, since backoff history must survive a reboot.
 */
export function resolveStateDir(configured: string | undefined, env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string {
  if (configured) return configured;
  const fromSystemd = env.STATE_DIRECTORY?.split(':')[0];
  if (fromSystemd) return fromSystemd;
  if (uid === 0) return '/var/lib/staplerd';
  const xdg = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(env.HOME ?? homedir(), '.local', 'state');
  return path.join(xdg, 'staplerd');
}
