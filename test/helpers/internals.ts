// The Node-internals setting runtime tests run under: vitest.config.ts runs test/runtime/ twice, once as is
// (private paths, self-tested) and once with TETHER_NODE_INTERNALS=off (every public fallback).
export const testNodeInternals = process.env.TETHER_NODE_INTERNALS !== 'off';
