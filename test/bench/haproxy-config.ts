// The bench's HAProxy configuration: one TCP frontend on `port`, round robin over `serverPorts`, the 1-hour
// timeouts our users run. A module of its own (no bench settings read at import), so every bench shares it.
export function benchHaproxyConfig(
  port: number,
  serverPorts: number[],
  threads: number,
  maxconn: number,
): string {
  return [
    'global',
    `  nbthread ${threads}`,
    `  maxconn ${maxconn}`,
    'defaults',
    '  mode tcp',
    `  maxconn ${maxconn}`,
    '  timeout connect 5s',
    '  timeout client 1h',
    '  timeout server 1h',
    'frontend bench',
    `  bind 127.0.0.1:${port}`,
    '  default_backend cmpp',
    'backend cmpp',
    '  balance roundrobin',
    ...serverPorts.map((p, i) => `  server s${i + 1} 127.0.0.1:${p}`),
    '',
  ].join('\n');
}
