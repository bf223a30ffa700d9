/** Waits with deadlines that say what did not happen (no guessed sleeps), and unique names: the test kit's. */
export { uniqueName, waitFor, within } from '@baton/testkit';
