import { RELEASES } from './producer.ts';
import { chainsReleaseSuite, testLog } from './suite.ts';

// Chains v0.28.1 (intoto 0.0.1 entries) against the project's test Rekor log and a real registry.
chainsReleaseSuite(RELEASES[0]!, 'the test log', testLog);
