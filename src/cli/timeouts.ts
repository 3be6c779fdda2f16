// --timeout and --wait: seconds, checked once, with their upper bounds.
import { GateError } from '../errors.ts';

/** The largest --timeout: ten minutes per request is already generous (and Node's timers overflow past 2^31-1 ms). */
export const MAX_TIMEOUT_SECONDS = 600;
/** The largest --wait: a day (Chains signs within minutes of the build). */
export const MAX_WAIT_SECONDS = 86_400;

export function seconds(value: number, flag: string, { positive = false, max = Number.POSITIVE_INFINITY } = {}): number {
  if (!Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new GateError('USAGE', `--${flag} must be a number of seconds ${positive ? '> 0' : '>= 0'}, got ${value}`);
  }
  if (value > max) {
    throw new GateError('USAGE', `--${flag} ${value} is more than the maximum of ${max} seconds (it is in seconds, not milliseconds)`);
  }
  return value;
}

/** --timeout in milliseconds, checked. */
export function timeoutMsOf(timeout: number): number {
  return seconds(timeout, 'timeout', { positive: true, max: MAX_TIMEOUT_SECONDS }) * 1000;
}
