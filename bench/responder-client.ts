// Starts the bench responder process and talks to it: listen first (leaves need its URL in their AIA), pre-sign while
// the bench writes the certificates, then reset and read its counters around each measured phase.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentMessage, ResponderSetup, ResponderStats } from './responder-protocol.js';

export interface PreSignReport {
  readonly preSignMs: number;
  readonly preSignCpuMs: number;
  readonly answers: number;
}

export class BenchResponder {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (stats: ResponderStats | undefined) => void>();
  #nextId = 1;
  #ready?: (report: PreSignReport) => void;
  #failed?: (error: Error) => void;

  private constructor(child: ChildProcess, readonly url: string) {
    this.#child = child;
    child.on('message', (message: ChildMessage) => this.#onMessage(message));
    // A responder that dies mid-run must fail the bench, not leave it waiting for an answer forever.
    child.on('exit', (code) => {
      this.#failed?.(new Error(`responder exited with ${code}`));
      for (const answer of this.#pending.values()) answer(undefined);
      this.#pending.clear();
    });
  }

  /** Forks the responder and resolves once it listens on 127.0.0.1 (it has no answers yet). */
  static async start(): Promise<BenchResponder> {
    const script = fileURLToPath(new URL('./responder-process.js', import.meta.url));
    const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`responder exited with ${code} before listening`)));
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'listening') resolve(message.port);
        if (message.type === 'error') reject(new Error(message.message));
      });
    });
    child.removeAllListeners('exit');
    return new BenchResponder(child, `http://127.0.0.1:${port}/`);
  }

  /** Sends the serials to pre-sign; resolves when every answer is in memory. */
  preSign(setup: ResponderSetup): Promise<PreSignReport> {
    const ready = new Promise<PreSignReport>((resolve, reject) => {
      this.#ready = resolve;
      this.#failed = reject;
    });
    this.#send({ type: 'setup', setup });
    return ready;
  }

  async reset(): Promise<void> {
    await this.#ask('reset');
  }

  async stats(): Promise<ResponderStats> {
    const stats = await this.#ask('stats');
    if (!stats) throw new Error('responder sent no stats (did it exit?)');
    return stats;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.disconnect();
    await exited;
  }

  #ask(type: 'reset' | 'stats'): Promise<ResponderStats | undefined> {
    const id = this.#nextId++;
    const answered = new Promise<ResponderStats | undefined>((resolve) => this.#pending.set(id, resolve));
    this.#send({ type, id });
    return answered;
  }

  #send(message: ParentMessage): void {
    if (!this.#child.connected) throw new Error('responder is not running');
    this.#child.send(message);
  }

  #onMessage(message: ChildMessage): void {
    if (message.type === 'ready') this.#ready?.({ preSignMs: message.preSignMs, preSignCpuMs: message.preSignCpuMs, answers: message.answers });
    else if (message.type === 'error') this.#failed?.(new Error(`responder: ${message.message}`));
    else if (message.type === 'reply') {
      this.#pending.get(message.id)?.(message.stats);
      this.#pending.delete(message.id);
    }
  }
}
