// The runtime's refusals as the runtime tests expect them.
import { expect } from 'vitest';
import { RuntimeError } from '../../src/runtime/errors.js';

/** The RuntimeError `promise` rejects with; the test fails when it resolves or rejects with anything else. */
export async function refusal(promise: Promise<unknown>): Promise<RuntimeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RuntimeError);
  return error as RuntimeError;
}
