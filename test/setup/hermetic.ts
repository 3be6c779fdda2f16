/**
 * vitest setup file (each test file's process): the tests are hermetic.
 * - No test leaves loopback: the guard (test/fixtures/loopback-guard.ts) refuses any other address and records
 *   it; the test during which that happened fails here, after it ran.
 * - No test downloads the image's Debian packages (GATE_NO_APT_DOWNLOAD=1, inherited by the scripts the
 *   container tests spawn): `.ci/run`'s install step fetches them; a test finds them or skips (needs.ts).
 */
import { afterAll, afterEach } from 'vitest';
import { NO_DOWNLOAD_ENV } from '../../scripts/image-rootfs.ts';
import { assertStayedOnLoopback, installLoopbackGuard } from '../fixtures/loopback-guard.ts';

installLoopbackGuard();
process.env[NO_DOWNLOAD_ENV] = '1';
afterEach(() => {
  assertStayedOnLoopback();
});
// what a file's afterAll or a suite's hooks did after its last test
afterAll(() => {
  assertStayedOnLoopback();
});
