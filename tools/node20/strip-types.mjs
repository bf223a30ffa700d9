// Node 20 cannot run TypeScript; Node 22.18+ strips types itself. The Node 20 test run
// (`pnpm test:node20`) puts `--import <this file>` in NODE_OPTIONS so that the candidate
// processes tests spawn (`node fixtures/candidate.ts`) run on Node 20 as well: .ts files are
// stripped with swc, the transformer jest already uses. Library code is never loaded this way
// in production; it ships compiled.
import { register } from 'node:module';

if (!process.features.typescript) register('./strip-types-hooks.mjs', import.meta.url);
