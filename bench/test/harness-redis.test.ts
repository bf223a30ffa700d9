import { it } from '@jest/globals';
import { CI_TIMEOUT_MS, harnessCi } from './harness-ci.ts';

it('redis: no two leaders act at once under kill, pause, proxy faults and a backend restart', () => harnessCi('redis'), CI_TIMEOUT_MS);
