/**
 * vitest setup file (each test file's process): no test leaves loopback. The guard (test/fixtures/loopback-guard.ts)
 * refuses any other address and records it; the test during which that happened fails here, after it ran.
 */
import { afterAll, afterEach } from 'vitest';
import { assertStayedOnLoopback, installLoopbackGuard } from '../fixtures/loopback-guard.ts';

installLoopbackGuard();
afterEach(() => {
  assertStayedOnLoopback();
});
// what a file's afterAll or a suite's hooks did after its last test
afterAll(() => {
  assertStayedOnLoopback();
});
