// When a kept CRL is asked again: table-driven at fixed instants.
import { describe, expect, it } from '@jest/globals';
import { computeCrlRefreshAt, computeCrlWakeAt, isCrlRefreshDue, type CrlRefreshInput } from '../../src/policy/crl-refresh.js';

const at = (iso: string): Date => new Date(iso);
// A CA publishing daily a CRL valid for a week (the "CAs publish daily, valid a week").
const weekly = { thisUpdate: at('2026-03-01T00:00:00Z'), nextUpdate: at('2026-03-08T00:00:00Z') };

describe('computeCrlRefreshAt', () => {
  const cases: [string, Omit<CrlRefreshInput, 'now'>, string][] = [
    ['no kept CRL: due at once', {}, '1970-01-01T00:00:00.000Z'],
    ['no kept CRL, failed a minute ago: five minutes after the failure', { failedAt: at('2026-03-02T10:00:00Z') }, '2026-03-02T10:05:00.000Z'],
    ['a week-long CRL just checked: four hours later, long before halfway', { kept: { ...weekly, checkedAt: at('2026-03-01T01:00:00Z') } }, '2026-03-01T05:00:00.000Z'],
    ['checked two hours before halfway: halfway through thisUpdate..nextUpdate comes first', { kept: { ...weekly, checkedAt: at('2026-03-04T10:00:00Z') } }, '2026-03-04T12:00:00.000Z'],
    ['checked long ago: four hours after that check, already past', { kept: { ...weekly, checkedAt: at('2026-02-20T00:00:00Z') } }, '2026-02-20T04:00:00.000Z'],
    ['a two-hour CRL: halfway (one hour) comes before the four-hour bound', {
      kept: { thisUpdate: at('2026-03-01T00:00:00Z'), nextUpdate: at('2026-03-01T02:00:00Z'), checkedAt: at('2026-03-01T00:00:00Z') },
    }, '2026-03-01T01:00:00.000Z'],
    ['due, but a failure two minutes ago waits out the retry delay', {
      kept: { ...weekly, checkedAt: at('2026-03-01T00:00:00Z') }, failedAt: at('2026-03-01T06:00:00Z'),
    }, '2026-03-01T06:05:00.000Z'],
    ['nextUpdate before thisUpdate (hostile): treated as a zero window, never earlier than thisUpdate', {
      kept: { thisUpdate: at('2026-03-05T00:00:00Z'), nextUpdate: at('2026-03-01T00:00:00Z'), checkedAt: at('2026-03-05T00:00:00Z') },
    }, '2026-03-05T00:00:00.000Z'],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(computeCrlRefreshAt(input).toISOString()).toBe(expected);
  });
});

describe('isCrlRefreshDue', () => {
  const kept = { ...weekly, checkedAt: at('2026-03-01T00:00:00Z') };
  const cases: [string, string, boolean][] = [
    ['just before the four-hour bound', '2026-03-01T03:59:59Z', false],
    ['at the four-hour bound', '2026-03-01T04:00:00Z', true],
    ['after nextUpdate', '2026-03-09T00:00:00Z', true],
  ];
  it.each(cases)('%s: %s', (_name, now, due) => {
    expect(isCrlRefreshDue({ now: at(now), kept })).toBe(due);
  });
});

// `run`'s timer: the refresh instant, but never sooner than 5 minutes after the server was last asked.
describe('computeCrlWakeAt', () => {
  const cases: [string, Omit<CrlRefreshInput, 'now'>, string][] = [
    ['just checked a week-long CRL: the refresh instant, four hours later', { kept: { ...weekly, checkedAt: at('2026-03-01T01:00:00Z') } }, '2026-03-01T05:00:00.000Z'],
    ['checked two hours before halfway: halfway', { kept: { ...weekly, checkedAt: at('2026-03-04T10:00:00Z') } }, '2026-03-04T12:00:00.000Z'],
    ['checked (304) past halfway: five minutes after that check, not halfway in the past (no wake every second)', {
      kept: { ...weekly, checkedAt: at('2026-03-06T00:00:00Z') },
    }, '2026-03-06T00:05:00.000Z'],
    ['failed just now: five minutes after the failure', { kept: { ...weekly, checkedAt: at('2026-03-01T00:00:00Z') }, failedAt: at('2026-03-01T06:00:00Z') }, '2026-03-01T06:05:00.000Z'],
    ['no kept CRL, failed: five minutes after the failure', { failedAt: at('2026-03-02T10:00:00Z') }, '2026-03-02T10:05:00.000Z'],
    ['never asked: due at once', {}, '1970-01-01T00:00:00.000Z'],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(computeCrlWakeAt(input).toISOString()).toBe(expected);
  });
});
