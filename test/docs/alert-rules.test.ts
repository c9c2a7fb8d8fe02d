// The example alert rules in docs/operations.md only use metrics and labels that staplerd really exports.
import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createStaplerdMetrics, STAPLE_STATES } from '../../src/metrics/index.js';
import { PROJECT_ROOT } from '../helpers/run-cli.js';
import { parseExposition } from '../metrics/exposition.js';
import { makeRow, NOW } from '../metrics/status-rows.js';

interface AlertRule {
  alert: string;
  expr: string;
}

async function readAlertRules(): Promise<AlertRule[]> {
  const doc = await readFile(path.join(PROJECT_ROOT, 'docs', 'operations.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Example Prometheus alert rules'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('docs/operations.md has no yaml block under "Example Prometheus alert rules"');
  const parsed = parseYaml(block) as { groups: { rules: AlertRule[] }[] };
  return parsed.groups.flatMap((group) => group.rules);
}

/** Every series name an exposition can hold, histograms' _bucket/_sum/_count included, after one of each event. */
async function exportedSeries(): Promise<{ names: Set<string>; labels: Map<string, Set<string>> }> {
  const metrics = createStaplerdMetrics({ collectDefaults: false });
  metrics.observeFetch({ host: 'ocsp.example.test', result: 'success', latencyMs: 100 });
  metrics.observeStapleFileFailure({ operation: 'write', code: 'WRITE_FAILED' });
  const crl = { url: 'http://crl.example.test/ca.crl', status: 'revoked' as const, thisUpdate: NOW, nextUpdate: new Date(NOW.getTime() + 86_400_000) };
  metrics.updateCertificates([makeRow({ mustStaple: true }), makeRow({ path: '/revoked.pem', state: 'revoked', revocationSource: 'crl', crl })], NOW);
  const exposition = parseExposition((await metrics.render(NOW)).body);
  const labels = new Map<string, Set<string>>();
  for (const sample of exposition.samples) {
    const known = labels.get(sample.name) ?? new Set<string>();
    for (const label of Object.keys(sample.labels)) known.add(label);
    labels.set(sample.name, known);
  }
  return { names: new Set(labels.keys()), labels };
}

describe('docs/operations.md alert rules', () => {
  it('parse as a Prometheus rule file with an alert name and an expression each', async () => {
    const rules = await readAlertRules();
    expect(rules.length).toBeGreaterThanOrEqual(3);
    for (const rule of rules) expect({ alert: typeof rule.alert, expr: typeof rule.expr }).toEqual({ alert: 'string', expr: 'string' });
  });

  it('name only staplerd metrics that the exposition contains, with labels it sets', async () => {
    const { names, labels } = await exportedSeries();
    for (const rule of await readAlertRules()) {
      for (const [, metric, selector] of rule.expr.matchAll(/\b(staplerd_[a-z_]+)(\{[^}]*\})?/g)) {
        expect({ alert: rule.alert, metric, exported: names.has(metric!) }).toEqual({ alert: rule.alert, metric, exported: true });
        for (const [, label] of (selector ?? '').matchAll(/([a-z_]+)\s*[=!]~?/g)) {
          expect({ alert: rule.alert, metric, label, set: labels.get(metric!)?.has(label!) }).toEqual({ alert: rule.alert, metric, label, set: true });
        }
      }
    }
  });

  it('match on state values that staplerd_certificates exports', async () => {
    for (const rule of await readAlertRules()) {
      const states = /staplerd_certificates\{state=~?"([^"]+)"\}/.exec(rule.expr)?.[1];
      for (const state of states?.split('|') ?? []) expect({ alert: rule.alert, state, known: (STAPLE_STATES as readonly string[]).includes(state) }).toEqual({ alert: rule.alert, state, known: true });
    }
  });
});
