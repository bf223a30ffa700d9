import { it } from '@jest/globals';
import { CI_TIMEOUT_MS, CI_TITLE, harnessCi } from './harness-ci.ts';

it(`lease: ${CI_TITLE}`, () => harnessCi('lease'), CI_TIMEOUT_MS);
