/**
 * Shared pieces of the property-based tests over what peers send: arbitraries of hostile bytes and JSON, and
 * the property every decoder must keep (a result, or a GateError with a stable code; nothing else).
 */
import { fc } from '@fast-check/vitest';
import { expect } from 'vitest';
import { GateError } from '../../src/errors.ts';

/** Runs per property: modest, so that the suite stays fast (override with FUZZ_RUNS for a longer hunt). */
export const RUNS = Number(process.env['FUZZ_RUNS'] ?? 150);

/** JSON values of every shape, a little deep. */
export const anyJson = fc.jsonValue({ maxDepth: 5 });

/** `bytes` with one byte changed (at a position and to a value the arbitrary picks; never to the same value). */
export function mutateByte(bytes: Buffer, at: number, delta: number): Buffer {
  const out = Buffer.from(bytes);
  const i = at % out.length;
  out[i] = ((out[i] as number) + 1 + (delta % 255)) & 0xff;
  return out;
}

/** A one-byte change: position and a non-zero delta. */
export const byteChange = fc.record({ at: fc.nat(), delta: fc.nat({ max: 254 }) });

/** Hostile text: JSON of any shape, valid samples with one byte changed, binary junk, deep nesting. */
export function hostileText(samples: readonly Buffer[]): fc.Arbitrary<Buffer> {
  return fc.oneof(
    anyJson.map((v) => Buffer.from(JSON.stringify(v))),
    fc.tuple(fc.constantFrom(...samples), byteChange).map(([s, c]) => mutateByte(s, c.at, c.delta)),
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    fc.nat({ max: 20_000 }).map((n) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`)),
    fc.constantFrom(...samples),
  );
}

/** The property: `fn` returns, or throws a GateError whose code is a stable one (never INTERNAL, never another error). */
export function verdictOrGateError<T>(fn: () => T): T | GateError {
  try {
    return fn();
  } catch (err) {
    expectStableGateError(err);
    return err as GateError;
  }
}

export async function verdictOrGateErrorAsync<T>(fn: () => Promise<T>): Promise<T | GateError> {
  try {
    return await fn();
  } catch (err) {
    expectStableGateError(err);
    return err as GateError;
  }
}

export function expectStableGateError(err: unknown): void {
  if (!(err instanceof GateError)) throw new Error(`not a GateError: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  expect(err.code).toMatch(/^[A-Z][A-Z_]+$/);
  expect(err.code).not.toBe('INTERNAL');
}
