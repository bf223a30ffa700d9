// One jest run over every package. Tests are ESM TypeScript, transformed by swc
// (type checking is `pnpm typecheck`, run first by `pnpm test`).
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022', keepClassNames: true },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/bench/test/**/*.test.ts'],
  testTimeout: 30_000,
  // Suites talk to shared local servers and spawn processes; two workers match the machine.
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 2,
};
