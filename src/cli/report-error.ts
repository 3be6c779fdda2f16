import { GateError, exitCodeFor } from '../errors.ts';
import { printable } from '../text.ts';
import { explain } from './hints.ts';

/** One line on stderr for an error (never a stack trace); returns its exit code. */
export function reportError(err: unknown): number {
  const code = exitCodeFor(err);
  const tag = err instanceof GateError ? err.code : 'INTERNAL';
  process.stderr.write(`rekor-gate: ${code === 2 ? 'usage error' : 'error'} [${tag}]: ${printable(explain(err))}\n`);
  return code;
}
