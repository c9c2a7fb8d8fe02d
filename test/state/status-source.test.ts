// Which view `staplerd status` shows: the daemon's snapshot only when the daemon answering now wrote it for the same
// certificates; a live pid alone (reused after a reboot, a test's child) never suffices.
import { describe, expect, it } from '@jest/globals';
import { chooseStatusSource, describeWatchedCertificates } from '../../src/state/index.js';

const WATCHED = describeWatchedCertificates({ certs: ['/etc/haproxy/certs', '/etc/letsencrypt/live'], extensions: ['.pem', '.crt'] });
const DAEMON = { pid: 812, instanceId: 'run-1' };
const SNAPSHOT = { pid: 812, instanceId: 'run-1', watched: WATCHED };

describe('chooseStatusSource', () => {
  it('shows the live view when the answering daemon wrote the snapshot for these certificates', () => {
    expect(chooseStatusSource({ snapshot: SNAPSHOT, daemon: DAEMON, wanted: WATCHED })).toEqual({ source: 'daemon' });
  });

  it('shows the files when no daemon answers, whatever pid the snapshot names', () => {
    expect(chooseStatusSource({ snapshot: SNAPSHOT, wanted: WATCHED })).toEqual({ source: 'files', reason: 'no-daemon' });
  });

  it('shows the files when the snapshot was written by an earlier daemon that had the same pid', () => {
    const earlier = { ...SNAPSHOT, instanceId: 'run-0' };
    expect(chooseStatusSource({ snapshot: earlier, daemon: DAEMON, wanted: WATCHED })).toEqual({ source: 'files', reason: 'no-snapshot', daemonPid: 812 });
  });

  it('shows the files for a snapshot of an older format, without instance id or certificates', () => {
    expect(chooseStatusSource({ snapshot: { pid: 812 }, daemon: DAEMON, wanted: WATCHED })).toEqual({ source: 'files', reason: 'no-snapshot', daemonPid: 812 });
    expect(chooseStatusSource({ snapshot: undefined, daemon: DAEMON, wanted: WATCHED })).toEqual({ source: 'files', reason: 'no-snapshot', daemonPid: 812 });
  });

  it('shows the files when the daemon watches other directories, another output root or other extensions', () => {
    const others = [
      describeWatchedCertificates({ certs: ['/etc/haproxy/certs'], extensions: ['.pem', '.crt'] }),
      describeWatchedCertificates({ certs: ['/etc/haproxy/certs', '/etc/letsencrypt/live'], out: '/var/lib/staplerd/staples', extensions: ['.pem', '.crt'] }),
      describeWatchedCertificates({ certs: ['/etc/haproxy/certs', '/etc/letsencrypt/live'], extensions: ['.pem'] }),
    ];
    for (const watched of others) {
      expect(chooseStatusSource({ snapshot: { ...SNAPSHOT, watched }, daemon: DAEMON, wanted: WATCHED })).toEqual({ source: 'files', reason: 'other-certificates', daemonPid: 812 });
    }
  });

  it('treats the same directories and extensions in another order, or repeated, as the same certificates', () => {
    const reordered = describeWatchedCertificates({ certs: ['/etc/letsencrypt/live', '/etc/haproxy/certs', '/etc/haproxy/certs'], extensions: ['.crt', '.pem'] });
    expect(chooseStatusSource({ snapshot: { ...SNAPSHOT, watched: reordered }, daemon: DAEMON, wanted: WATCHED })).toEqual({ source: 'daemon' });
  });
});
