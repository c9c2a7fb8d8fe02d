// A test PKI with a running responder whose URL its leaves carry: the usual fixture for fetch and scheduler tests.
import type { DemoAuthorityOptions, IssuedIdentity, LeafOptions } from '../../src/demo/demo-pki.js';
import { startOcspResponder, type ResponderOptions, type RunningResponder } from '../../src/demo/ocsp-responder.js';
import { createTestPki, type TestPki } from './test-pki.js';

export interface TestResponderFixture {
  readonly pki: TestPki;
  readonly responder: RunningResponder;
  /** A leaf whose AIA names the responder (override with ocspUrls). */
  issueLeaf(options?: Partial<LeafOptions>): Promise<IssuedIdentity>;
  close(): Promise<void>;
}

/**
 * The authority is created first (the responder must know its issuers), so the intermediate's own AIA carries no
 * OCSP URL; leaves get the responder URL. Call close() in afterAll.
 */
export async function startTestResponder(
  options: { pki?: DemoAuthorityOptions; responder?: Omit<ResponderOptions, 'authority'> } = {},
): Promise<TestResponderFixture> {
  const pki = await createTestPki(options.pki);
  const responder = await startOcspResponder({ ...options.responder, authority: pki.authority });
  return {
    pki,
    responder,
    issueLeaf: (leafOptions = {}) => pki.issueLeaf({ ocspUrls: [responder.url], ...leafOptions }),
    close: () => responder.close(),
  };
}
