// The daemon's status socket in the state dir: opened at start, moved when a reload moves the state dir, closed at stop.
import { toStaplerdError } from '../errors/index.js';
import type { EventLogger } from '../log/index.js';
import { daemonSocketPath, listenDaemonSocket, type DaemonSocket } from '../state/index.js';

export class StatusSocketBinding {
  private socket?: DaemonSocket;

  /** @param instanceId names this run on the socket: a reused pid is not the same daemon. */
  constructor(private readonly instanceId: string) {}

  /**
   * Listens on the state dir's status socket (again, after a reload moved the state dir), which proves to
   * `staplerd status` that this daemon is running. A failure is logged, never fatal: status then shows the files.
   */
  async sync(stateDir: string, logger: () => EventLogger, isStopping: () => boolean): Promise<void> {
    if (this.socket?.path === daemonSocketPath(stateDir)) return;
    await this.close();
    try {
      const socket = await listenDaemonSocket(stateDir, { pid: process.pid, instanceId: this.instanceId });
      // SIGTERM while it was being opened: stop() found nothing to close.
      if (isStopping()) {
        await socket.close();
        return;
      }
      this.socket = socket;
    } catch (thrown) {
      const error = toStaplerdError(thrown, 'STATUS_SOCKET_FAILED');
      logger().log('warn', 'status.socket_failed', `${error.message}; \`staplerd status\` shows the files, not the live view`, { code: error.code, file: error.file });
    }
  }

  async close(): Promise<void> {
    await this.socket?.close();
    this.socket = undefined;
  }
}
