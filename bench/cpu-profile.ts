// Summarises a V8 .cpuprofile (what `node --cpu-prof` writes): self time per function and per area (a package, a
// staplerd folder, Node internals, GC), and inclusive time of staplerd's own functions.
import { readFile } from 'node:fs/promises';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

/** The Chrome DevTools Protocol Profiler.Profile shape (samples[i] happened timeDeltas[i] µs after the previous). */
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface FunctionTime {
  readonly name: string;
  readonly where: string;
  readonly selfMs: number;
  readonly totalMs: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly byArea: readonly { readonly name: string; readonly selfMs: number }[];
  readonly topSelf: readonly FunctionTime[];
  readonly topStaplerdInclusive: readonly FunctionTime[];
}

const TOP = 20;

export async function summariseCpuProfile(file: string): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const area = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((nodeId, index) => {
    // The delta before a sample is the time attributed to it (how DevTools computes self time).
    const deltaUs = Math.max(0, profile.timeDeltas[index] ?? 0);
    totalUs += deltaUs;
    const leaf = byId.get(nodeId)!;
    add(self, keyOf(leaf.callFrame), deltaUs);
    add(area, areaOf(leaf.callFrame), deltaUs);
    const seen = new Set<string>();
    for (let id: number | undefined = nodeId; id !== undefined; id = parentOf.get(id)) {
      const key = keyOf(byId.get(id)!.callFrame);
      if (!seen.has(key)) add(total, key, deltaUs);
      seen.add(key);
    }
  });

  const describe = (key: string): FunctionTime => {
    const [name, where] = key.split('\u0000') as [string, string];
    return { name, where, selfMs: (self.get(key) ?? 0) / 1000, totalMs: (total.get(key) ?? 0) / 1000 };
  };
  const keys = [...total.keys()];
  return {
    totalMs: totalUs / 1000,
    byArea: [...area.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([name, us]) => ({ name, selfMs: us / 1000 })),
    topSelf: keys.filter((key) => self.has(key)).map(describe).sort((a, b) => b.selfMs - a.selfMs).slice(0, TOP),
    topStaplerdInclusive: keys
      .filter((key) => key.includes('src/'))
      .map(describe)
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, TOP),
  };
}

function add(map: Map<string, number>, key: string, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

function keyOf(frame: CallFrame): string {
  return `${frame.functionName || '(anonymous)'}\u0000${shortenUrl(frame.url)}:${frame.lineNumber + 1}`;
}

/** Paths from the package or source root, so the table reads `pkijs/build/index.es.js` and `src/pki/certificate.js`. */
function shortenUrl(url: string): string {
  if (url === '') return '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) return url.slice(modules + 'node_modules/'.length);
  const source = url.lastIndexOf('/src/');
  if (source !== -1) return url.slice(source + 1);
  return url.replace(/^file:\/\//, '');
}

/** A package, `staplerd src/<folder>`, a `node:` module, or V8's own buckets ((garbage collector), (program), (idle)). */
function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const source = url.lastIndexOf('/src/');
  if (source !== -1) return `staplerd src/${url.slice(source + 5).split('/')[0]}`;
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    return `node:${parts[0] === 'internal' && parts.length > 2 ? `internal/${parts[1]}` : parts.slice(0, 2).join('/')}`;
  }
  return url;
}
