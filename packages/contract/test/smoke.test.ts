import { test, expect } from '@jest/globals';
import { hello2 } from '../src/index.ts';
test('smoke', () => { expect(hello2()).toBe('hi2'); expect(process.version).toMatch(/^v24/); });
