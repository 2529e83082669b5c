import { readFileSync } from 'node:fs';
import type { Settings } from '../settings.js';

/** HTTPS options for NestFactory when TETHER_TLS_CERT and TETHER_TLS_KEY name PEM files; undefined for plain HTTP. */
export function httpsOptionsOf(settings: Settings): { cert: Buffer; key: Buffer } | undefined {
  if (!settings.tlsCert && !settings.tlsKey) return undefined;
  if (!settings.tlsCert || !settings.tlsKey) {
    throw new Error('TLS needs both TETHER_TLS_CERT and TETHER_TLS_KEY (paths to PEM files)');
  }
  return { cert: readFileSync(settings.tlsCert), key: readFileSync(settings.tlsKey) };
}
