// Runs one server step after a pass so that its failure is logged at its code's level and stops nothing else.
import { recodeError, toStaplerdError, type ErrorCode } from '../errors/index.js';
import { logFailure, type EventLogger } from '../log/index.js';

/**
 * A failed snippet, issuer file or state save must not keep the other certificates' files or pushes from happening.
 * `recodeAs` names what failed when the layer below cannot know it (a state save fails inside the same atomic write
 * as a staple: WRITE_FAILED there).
 */
export async function guardStep(logger: EventLogger, event: string, file: string, task: () => Promise<void>, recodeAs?: ErrorCode): Promise<void> {
  try {
    await task();
  } catch (thrown) {
    const error = recodeAs ? recodeError(thrown, recodeAs, { file }) : toStaplerdError(thrown, 'WRITE_FAILED', { file });
    logFailure(logger, event, error, { file });
  }
}
