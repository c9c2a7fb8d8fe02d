// redactSecrets: URL passwords and secret-bearing values never reach a message or a log line.
import { describe, expect, it } from '@jest/globals';
import { redactSecrets, StaplerdError } from '../../src/errors/index.js';

describe('redactSecrets', () => {
  it.each<[string, string]>([
    ['proxy http://ops:s3cret@proxy.test:3128 refused', 'proxy http://ops:***@proxy.test:3128 refused'],
    ['http://ops:p@ss@proxy.test/x', 'http://ops:***@proxy.test/x'],
    ['HTTPS://a:b@h and http://c:d@i', 'HTTPS://a:***@h and http://c:***@i'],
    ['password: hunter2, next', 'password: ***, next'],
    ['token=abc&x=1', 'token=***&x=1'],
    ['Proxy-Authorization: Basic b3BzOnMzY3JldA==', 'Proxy-Authorization: Basic ***'],
  ])('hides the secret in %p', (text, expected) => {
    expect(redactSecrets(text)).toBe(expected);
  });

  it('leaves URLs without a password and ordinary words alone', () => {
    const text = 'GET http://ocsp.test:8080/path answered HTTP 502; first pass: tokens of the passage kept';
    expect(redactSecrets(text)).toBe(text);
  });
});

describe('StaplerdError', () => {
  it('carries no password in its message or URL, whoever built it', () => {
    const error = new StaplerdError('FETCH_NETWORK', 'http://ops:s3cret@127.0.0.1:1/ refused', { url: 'http://ops:s3cret@127.0.0.1:1/' });
    expect(error.message).not.toContain('s3cret');
    expect(error.url).toBe('http://ops:***@127.0.0.1:1/');
  });
});
