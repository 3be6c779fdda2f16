import { GateError } from '../errors.ts';
import type { DecodedEntry } from '../rekor/entry.ts';
import { verifyInLog } from '../rekor/log-verify.ts';
import { step, type CheckContext } from './steps.ts';

/** The log step of an entry: SET, proof, checkpoint; only a verified SET vouches for the integrated time. */
export function checkLogVouches(entry: DecodedEntry, ctx: CheckContext, where: string): void {
  step('log', () => {
    const v = verifyInLog(entry, ctx.trust);
    // A Merkle proof and checkpoint authenticate the body, not the integrated time, which then judges the
    // certificate, the log key and the policy's maximum age: only a verified SET signs that time.
    if (!v.set) {
      throw new GateError('TLOG_SET', `${where}: carries no signed entry timestamp, so nothing signed by the log vouches for its integrated time`);
    }
  });
}
