// lock-redis's suite with the low end of its ioredis peer range: every `import … from 'ioredis'`
// (the adapter's and the tests') resolves to ioredis 5.3.0, installed as the `ioredis5` alias.
import base from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  testMatch: ['<rootDir>/packages/lock-redis/test/**/*.test.ts'],
  moduleNameMapper: { '^ioredis$': 'ioredis5' },
};
