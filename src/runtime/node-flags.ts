// The Node flags every process that runs the data plane starts with: `npm start` (package.json), the
// Docker image, worker processes (their execArgv) and the benchmark's Node proxies. Measured in
// docs/runtime-hot-path.md, "Memory per idle connection": capping V8's young generation halves RSS per
// idle connection at no measurable CPU cost for a relay.
export const RUNTIME_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
