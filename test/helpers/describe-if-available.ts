// One rule for tests that need a real component (a server, Redis, root): run them where it is here, skip them with a
// visible warning where it is not, and fail under CI=true, where .ci/run must have provided it.
import { describe, it } from '@jest/globals';

export interface Requirement {
  /** Title of the failing test under CI=true ("needs nginx installed"). */
  readonly what: string;
  /** What CI must do about it, ending the failure's message ("CI must install it (.ci/run)"). */
  readonly remedy: string;
  /** Appended to the skip warning outside CI ("Install it to run these tests."). */
  readonly skipHint?: string;
}

/** `describe(name, body)` when `missing` is undefined; otherwise a failing test under CI=true, else a visible skip. */
export function describeIfAvailable(name: string, missing: string | undefined, requirement: Requirement, body: () => void): void {
  if (!missing) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it(`${requirement.what} (CI=true)`, () => {
        throw new Error(`${missing}: ${requirement.remedy}`);
      });
    });
    return;
  }
  console.warn(`SKIPPED "${name}": ${missing}.${requirement.skipHint ? ` ${requirement.skipHint}` : ''}`);
  describe.skip(name, body);
}
