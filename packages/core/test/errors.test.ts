import { describe, expect, test } from '@jest/globals';
import {
  AuthenticationError,
  BackendSetupError,
  BackendUnavailableError,
  BatonError,
  ConfigError,
  InvalidRecordError,
  isPermanentError,
  LockConflictError,
  PermissionDeniedError,
} from '../src/index.ts';

describe('permanent and transient errors', () => {
  test('each class says whether retrying can help', () => {
    expect(new AuthenticationError('wrong password').permanent).toBe(true);
    expect(new PermissionDeniedError('forbidden').permanent).toBe(true);
    expect(new BackendSetupError('no such database').permanent).toBe(true);
    expect(new ConfigError('leaseDuration', 'must be a duration').permanent).toBe(true);
    expect(new InvalidRecordError('redis key x', 'not JSON').permanent).toBe(true);
    expect(new BackendUnavailableError('ECONNREFUSED').permanent).toBe(false);
    expect(new LockConflictError('lost the race').permanent).toBe(false);
  });

  test('an adapter can override the class: TLS spoken to a plain-text server is unavailable, and permanent', () => {
    const error = new BackendUnavailableError('the server does not speak TLS', { permanent: true, cause: new Error('wrong version number') });
    expect(error.permanent).toBe(true);
    expect((error.cause as Error).message).toBe('wrong version number');
    expect(error).toBeInstanceOf(BatonError);
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
  });

  test('isPermanentError reads the flag through causes and across package copies, and says no to anything else', () => {
    expect(isPermanentError(new AuthenticationError('no'))).toBe(true);
    expect(isPermanentError(new Error('wrapped', { cause: new PermissionDeniedError('no') }))).toBe(true);
    // The nearest flag wins: an adapter that decided "transient" over a permanent-looking cause is believed.
    expect(isPermanentError(new BackendUnavailableError('retry', { cause: new AuthenticationError('stale') }))).toBe(false);
    expect(isPermanentError({ permanent: true, message: 'from another copy of @baton/core' })).toBe(true);
    expect(isPermanentError(new Error('plain'))).toBe(false);
    expect(isPermanentError(undefined)).toBe(false);
    expect(isPermanentError('a string')).toBe(false);
  });

  test('no cause option means no cause property, as before', () => {
    expect('cause' in new LockConflictError('x')).toBe(false);
  });
});
