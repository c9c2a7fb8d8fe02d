// The staple directory watcher with a fake fs.watch and fake timers: which directories are watched, debounce, close().
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { FSWatcher } from 'node:fs';
import { createDirectoryWatcher, type DirectoryWatcherOptions } from '../../../src/servers/node-tls/directory-watcher.js';

class FakeWatcher extends EventEmitter {
  closed = false;
  constructor(readonly dir: string, readonly fire: () => void) {
    super();
  }
  close(): void {
    this.closed = true;
  }
}

function createFixture(overrides: Partial<DirectoryWatcherOptions> = {}) {
  const opened: FakeWatcher[] = [];
  const onChange = jest.fn<() => void>();
  const onError = jest.fn<(error: Error, dir: string) => void>();
  const watcher = createDirectoryWatcher({
    debounceMs: 100,
    onChange,
    onError,
    watchDirectory: (dir, listener) => {
      const fake = new FakeWatcher(dir, listener);
      opened.push(fake);
      return fake as unknown as FSWatcher;
    },
    ...overrides,
  });
  const open = () => opened.filter((fake) => !fake.closed).map((fake) => fake.dir).sort();
  return { watcher, opened, open, onChange, onError };
}

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

describe('createDirectoryWatcher', () => {
  it('watches exactly the directories it is given, and reports when it started a new one', () => {
    const { watcher, open } = createFixture();

    expect(watcher.track(['/s', '/s/a'])).toBe(true);
    expect(watcher.track(['/s', '/s/b'])).toBe(true);
    expect(open()).toEqual(['/s', '/s/b']);
    expect(watcher.track(['/s', '/s/b'])).toBe(false);
  });

  it('asks for one re-scan after a burst of events', () => {
    const { watcher, opened, onChange } = createFixture();
    watcher.track(['/s']);

    opened[0]!.fire();
    opened[0]!.fire();
    jest.advanceTimersByTime(50);
    opened[0]!.fire();
    jest.advanceTimersByTime(100);

    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('drops a watcher that errors (directory removed) and asks for a re-scan', () => {
    const { watcher, opened, open, onChange } = createFixture();
    watcher.track(['/s', '/s/a']);

    opened[1]!.emit('error', new Error('EPERM'));
    jest.advanceTimersByTime(100);

    expect(open()).toEqual(['/s']);
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('reports a directory it cannot watch once, however often it is tracked', () => {
    const { watcher, onError } = createFixture({
      watchDirectory: () => {
        throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });
      },
    });

    expect(watcher.track(['/s'])).toBe(false);
    watcher.track(['/s']);

    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]![1]).toBe('/s');
  });

  it('closes every watcher and drops a pending re-scan on close()', () => {
    const { watcher, opened, open, onChange } = createFixture();
    watcher.track(['/s', '/s/a']);
    opened[0]!.fire();

    watcher.close();
    jest.advanceTimersByTime(1000);

    expect(open()).toEqual([]);
    expect(onChange).not.toHaveBeenCalled();
    expect(watcher.track(['/s'])).toBe(false);
  });
});
