// The redirect rules as pure functions: address scopes and the per-hop verdict.
import { describe, expect, it } from '@jest/globals';
import { classifyAddress, decideRedirect, isSameHost, type AddressScope } from '../../src/ocsp/redirect-policy.js';

describe('classifyAddress', () => {
  it.each<[string, AddressScope]>([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['172.32.0.1', 'public'],
    ['93.184.216.34', 'public'],
    ['2606:4700::1111', 'public'],
    ['not-an-address', 'unspecified'],
  ])('puts %s in scope %s', (address, scope) => {
    expect(classifyAddress(address)).toBe(scope);
  });
});

describe('decideRedirect', () => {
  const hop = (overrides: Partial<Parameters<typeof decideRedirect>[0]> = {}): Parameters<typeof decideRedirect>[0] => ({
    from: new URL('http://ocsp.ca.example/'),
    to: new URL('http://ocsp.cdn.example/'),
    nextMethod: 'GET',
    originScope: 'public',
    targetScopes: ['public'],
    ...overrides,
  });

  it('follows a GET from a public responder to a public host', () => {
    expect(decideRedirect(hop())).toEqual({ follow: true });
  });

  it.each<AddressScope>(['loopback', 'link-local', 'private', 'unspecified'])('refuses a public responder sending us to a %s address', (scope) => {
    expect(decideRedirect(hop({ targetScopes: ['public', scope] }))).toEqual({ follow: false, reason: expect.stringContaining(`${scope} address`) });
  });

  it('lets a local responder redirect to local addresses (private PKIs, test setups)', () => {
    expect(decideRedirect(hop({ originScope: 'private', targetScopes: ['loopback'] }))).toEqual({ follow: true });
  });

  it('refuses a POST carried to another host, whatever the addresses', () => {
    expect(decideRedirect(hop({ nextMethod: 'POST', originScope: 'loopback', targetScopes: ['loopback'] }))).toEqual({
      follow: false,
      reason: expect.stringContaining('re-send the POST body to another host'),
    });
  });

  it('follows a POST to another path of the same host', () => {
    expect(decideRedirect(hop({ nextMethod: 'POST', to: new URL('http://ocsp.ca.example/v2') }))).toEqual({ follow: true });
  });
});

describe('isSameHost', () => {
  it.each<[string, string, boolean]>([
    ['http://a.example/x', 'http://A.EXAMPLE./y', true],
    ['http://a.example/', 'https://a.example/', true],
    ['http://a.example:8080/', 'https://a.example/', false],
    ['http://a.example/', 'http://a.example:8080/', false],
    ['https://a.example/', 'http://a.example/', false],
    ['http://a.example/', 'http://b.example/', false],
  ])('%s and %s: %p', (from, to, same) => {
    expect(isSameHost(new URL(from), new URL(to))).toBe(same);
  });
});
