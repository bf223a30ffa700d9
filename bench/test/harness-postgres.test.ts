import { it } from '@jest/globals';
import { CI_TIMEOUT_MS, harnessCi } from './harness-ci.ts';

it('postgres: no two leaders act at once under kill, pause, proxy faults and a backend restart', () => harnessCi('postgres'), CI_TIMEOUT_MS);
