import { hello } from '@baton/core';
export const hello2 = (): string => hello() + '2';
