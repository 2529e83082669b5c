// Texts of HAProxy 2.6's CLI, copied from a real `haproxy` (Debian 2.6.12) so scripts that match on them keep
// working. Only the commands Tether answers are listed (docs/runtime-socket.md).

/** HAProxy's help lines of the commands Tether answers, in HAProxy's order. */
// prettier-ignore
export const HELP_LINES: readonly string[] = [
  '  disable frontend <frontend>             : temporarily disable specific frontend',
  "  disable server (DEPRECATED)             : disable a server for maintenance (use 'set server' instead)",
  '  enable frontend <frontend>              : re-enable specific frontend',
  "  enable server  (DEPRECATED)             : enable a disabled server (use 'set server' instead)",
  "  get weight <bk>/<srv>                   : report a server's current weight",
  "  set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl",
  "  set weight <bk>/<srv>  (DEPRECATED)     : change a server's weight (use 'set server' instead)",
  '  show backend                            : list backends in the current running config',
  '  show errors [<px>] [request|response]   : report last request and/or response errors for each proxy',
  '  show info [desc|json|typed|float]*      : report information about the running process',
  '  show servers state [<backend>]          : dump volatile server information (all or for a single backend)',
  '  show sess [id]                          : report the list of current sessions or dump this exact session',
  '  show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server',
  '  shutdown session [id]                   : kill a specific session',
  '  shutdown sessions server <bk>/<srv>     : kill sessions on a server',
];

/** Always listed last, also under the "better match" suggestions. */
// prettier-ignore
export const HELP_TAIL: readonly string[] = [
  '  help [<command>]                        : list matching or all commands',
  '  prompt                                  : toggle interactive mode with prompt',
  '  quit                                    : disconnect',
];

export const MESSAGES = {
  helpHeader: 'The following commands are valid at this level:',
  unknownEmpty: 'Unknown command. Please enter one of the following commands only:',
  unknownMaybe: 'Unknown command, but maybe one of the following ones is a better match:',
  requireServer: "Require 'backend/server'.",
  noSuchBackend: 'No such backend.',
  noSuchServer: 'No such server.',
  cantFindBackend: "Can't find backend.",
  requireWeight: 'Require <weight> or <weight%>.',
  // HAProxy prints these two without the blank line that ends every other answer.
  weightGarbage: 'Empty weight string empty or preceded by garbage',
  weightTrailing: 'Trailing garbage in weight string',
  weightRange: 'Absolute weight can only be between 0 and 256 inclusive.',
  weightRelative: 'Relative weight must be positive.',
  stateExpects: "'set server <srv> state' expects 'ready', 'drain' and 'maint'.",
  setServerUsage:
    'usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight',
  frontendExpected: 'A frontend name is expected.',
  noSuchFrontend: 'No such frontend.',
  frontendEnabled: 'All sockets are already enabled.',
  frontendDisabled: 'All sockets are already disabled.',
  sessionExpected: "Session pointer expected (use 'show sess').",
  noSuchSession: "No such session (use 'show sess').",
  sessionNotFound: 'Session not found.',
  noSuchProxy: 'No such proxy.',
  // Tether's own: a format asked for and not given would mislead a script.
  statFormat: (format: string) =>
    `'show stat ${format}' is not supported by Tether: 'show stat' answers HAProxy's CSV only.`,
} as const;
