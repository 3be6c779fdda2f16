import { RELEASES } from './producer.ts';
import { chainsReleaseSuite, testLog } from './suite.ts';

// Chains v0.29.1 (dsse 0.0.1 entries, the envelope only in the registry) against the project's test Rekor log.
chainsReleaseSuite(RELEASES[1]!, 'the test log', testLog);
