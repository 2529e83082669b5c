// The snapshot types moved to the bottom layer (src/schema/snapshot.ts); this re-export keeps the
// console's import path (web/src/types.ts) working.
export * from '../schema/snapshot.js';
