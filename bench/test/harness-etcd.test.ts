import { it } from '@jest/globals';
import { CI_TIMEOUT_MS, CI_TITLE, harnessCi } from './harness-ci.ts';

it(`etcd: ${CI_TITLE}`, () => harnessCi('etcd'), CI_TIMEOUT_MS);
