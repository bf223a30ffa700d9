import { it } from '@jest/globals';
import { CI_TIMEOUT_MS, CI_TITLE, harnessCi } from './harness-ci.ts';

it(`redis: ${CI_TITLE}`, () => harnessCi('redis'), CI_TIMEOUT_MS);
