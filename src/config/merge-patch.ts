/**
 * PATCH semantics: fields given replace the current ones, `null` removes an optional field, fields left
 * out stay. Nested objects are replaced whole.
 */
export function mergePatch<T extends object>(current: T, patch: object): T {
  const merged = { ...current } as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged as T;
}
