// The `show stat` columns of HAProxy 2.6, in its order, captured from Debian's haproxy 2.6.12
// (`echo 'show stat' | socat - UNIX-CONNECT:...`). After the fixed columns HAProxy appends a '-'
// marker and the columns of its stats modules (ssl, h2, h1); tooling that reads by header name
// expects them, so they are part of the format. test/stats/haproxy-csv.test.ts re-checks this list
// against a real haproxy whenever one is installed.
// prettier-ignore
export const HAPROXY_26_COLUMNS = [
  'pxname', 'svname', 'qcur', 'qmax', 'scur', 'smax', 'slim', 'stot',
  'bin', 'bout', 'dreq', 'dresp', 'ereq', 'econ', 'eresp', 'wretr',
  'wredis', 'status', 'weight', 'act', 'bck', 'chkfail', 'chkdown', 'lastchg',
  'downtime', 'qlimit', 'pid', 'iid', 'sid', 'throttle', 'lbtot', 'tracked',
  'type', 'rate', 'rate_lim', 'rate_max', 'check_status', 'check_code', 'check_duration', 'hrsp_1xx',
  'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other', 'hanafail', 'req_rate', 'req_rate_max',
  'req_tot', 'cli_abrt', 'srv_abrt', 'comp_in', 'comp_out', 'comp_byp', 'comp_rsp', 'lastsess',
  'last_chk', 'last_agt', 'qtime', 'ctime', 'rtime', 'ttime', 'agent_status', 'agent_code',
  'agent_duration', 'check_desc', 'agent_desc', 'check_rise', 'check_fall', 'check_health', 'agent_rise', 'agent_fall',
  'agent_health', 'addr', 'cookie', 'mode', 'algo', 'conn_rate', 'conn_rate_max', 'conn_tot',
  'intercepted', 'dcon', 'dses', 'wrew', 'connect', 'reuse', 'cache_lookups', 'cache_hits',
  'srv_icur', 'src_ilim', 'qtime_max', 'ctime_max', 'rtime_max', 'ttime_max', 'eint', 'idle_conn_cur',
  'safe_conn_cur', 'used_conn_cur', 'need_conn_est', 'uweight', 'agg_server_status', 'agg_server_check_status', 'agg_check_status', '-',
  'ssl_sess', 'ssl_reused_sess', 'ssl_failed_handshake', 'h2_headers_rcvd', 'h2_data_rcvd', 'h2_settings_rcvd', 'h2_rst_stream_rcvd', 'h2_goaway_rcvd',
  'h2_detected_conn_protocol_errors', 'h2_detected_strm_protocol_errors', 'h2_rst_stream_resp', 'h2_goaway_resp', 'h2_open_connections', 'h2_backend_open_streams', 'h2_total_connections', 'h2_backend_total_streams',
  'h1_open_connections', 'h1_open_streams', 'h1_total_connections', 'h1_total_streams', 'h1_bytes_in', 'h1_bytes_out', 'h1_spliced_bytes_in', 'h1_spliced_bytes_out',
] as const;

export type HaproxyColumn = (typeof HAPROXY_26_COLUMNS)[number];

/** The header line exactly as HAProxy prints it, trailing comma included. */
export const HAPROXY_26_HEADER = `# ${HAPROXY_26_COLUMNS.join(',')},`;

/** Columns of the stats modules; HAProxy fills them on every row (servers: ssl only). */
export const SSL_MODULE_COLUMNS = HAPROXY_26_COLUMNS.filter((c) => c.startsWith('ssl_'));
export const H1_H2_MODULE_COLUMNS = HAPROXY_26_COLUMNS.filter(
  (c) => c.startsWith('h1_') || c.startsWith('h2_'),
);
