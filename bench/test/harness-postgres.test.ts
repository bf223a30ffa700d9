import { it } from '@jest/globals';
import { CI_TIMEOUT_MS, CI_TITLE, harnessCi } from './harness-ci.ts';

it(`postgres: ${CI_TITLE}`, () => harnessCi('postgres'), CI_TIMEOUT_MS);
