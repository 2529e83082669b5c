import { isIP } from 'node:net';
import { ValidateBy, type ValidationOptions } from 'class-validator';
import { HOSTNAME_PATTERN, isCidr } from '../config/snapshot-checks.js';

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
