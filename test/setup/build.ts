/**
 * vitest globalSetup: builds dist/ from the current source once per run, before any test file starts, so that
 * the end-to-end tests (which spawn dist/rekor-gate.js, the file the step image runs) never test an older build.
 * About 2 s; `npm test` has no build step of its own.
 */
import { buildDist } from '../../scripts/build.ts';

export default async function setup(): Promise<void> {
  await buildDist();
}
