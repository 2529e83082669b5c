// Syslog facilities as HAProxy's `log` lines name them: read by the import, used by the session logs' syslog.

/** HAProxy's facility names, in RFC 3164 code order (kern = 0 … local7 = 23). */
export const FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'auth2',
  'ftp',
  'ntp',
  'audit',
  'alert',
  'cron2',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;
