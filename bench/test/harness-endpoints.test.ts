import { it } from '@jest/globals';
import { CI_TIMEOUT_MS, CI_TITLE, harnessCi } from './harness-ci.ts';

it(`endpoints: ${CI_TITLE}`, () => harnessCi('endpoints'), CI_TIMEOUT_MS);
