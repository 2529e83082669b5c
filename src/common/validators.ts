import { isIP } from 'node:net';
import { Matches, ValidateBy, type ValidationOptions } from 'class-validator';
import { HOSTNAME_PATTERN, isCidr, NAME_PATTERN } from '../config/snapshot-checks.js';

/** A frontend, backend or server name: NAME_PATTERN, with a message that says what it allows. */
export function IsName(): PropertyDecorator {
  return Matches(NAME_PATTERN, {
    message: '$property must be 1 to 64 characters of letters, digits, "_", "." or "-"',
  });
}

/** An IP address or address/prefix block (IPv4 or IPv6). */
export function IsCidr(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCidr',
      validator: {
        validate: (value) => typeof value === 'string' && isCidr(value),
        defaultMessage: (args) =>
          `${args?.property} must contain IP addresses or CIDR blocks such as 10.0.0.0/8`,
      },
    },
    options,
  );
}

/** An IP address or a DNS host name. */
export function IsHost(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isHost',
      validator: {
        validate: (value) => typeof value === 'string' && (isIP(value) !== 0 || HOSTNAME_PATTERN.test(value)),
        defaultMessage: (args) => `${args?.property} must be an IP address or host name`,
      },
    },
    options,
  );
}
