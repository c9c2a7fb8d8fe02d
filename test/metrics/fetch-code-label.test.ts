// staplerd_fetches_total's `code` label is the failed attempt's own code, for every code of ERROR_CODES.
import { describe, expect, it } from '@jest/globals';
import { ERROR_CODES } from '../../src/errors/index.js';
import { createStaplerdMetrics } from '../../src/metrics/index.js';
import { parseExposition, sampleValue } from './exposition.js';

const NOW = new Date('2031-03-01T12:00:00Z');

describe('staplerd_fetches_total code label', () => {
  it('carries the code of each failed attempt, one series per code of ERROR_CODES', async () => {
    const metrics = createStaplerdMetrics({ collectDefaults: false });
    const codes = Object.keys(ERROR_CODES);
    for (const code of codes) metrics.observeFetch({ host: 'ocsp.test', result: 'failure', code, latencyMs: 10 });

    const exposition = parseExposition((await metrics.render(NOW)).body);

    expect(codes.map((code) => sampleValue(exposition, 'staplerd_fetches_total', { host: 'ocsp.test', result: 'failure', code }))).toEqual(codes.map(() => 1));
  });

  it('labels a code outside ERROR_CODES OTHER, so a hostile or buggy code cannot grow the label set', async () => {
    const metrics = createStaplerdMetrics({ collectDefaults: false });
    metrics.observeFetch({ host: 'ocsp.test', result: 'failure', code: 'EVIL_<script>', latencyMs: 10 });

    const exposition = parseExposition((await metrics.render(NOW)).body);

    expect(sampleValue(exposition, 'staplerd_fetches_total', { host: 'ocsp.test', result: 'failure', code: 'OTHER' })).toBe(1);
  });
});
