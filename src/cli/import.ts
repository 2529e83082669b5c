// `npm run import -- <file> [--dry-run] [--strict] [--message <text>] [--if-match <revision>]`: hands a
// haproxy.cfg to the running appliance's API (POST /api/v1/import/haproxy), so the import goes through
// the same pipeline, checks and audit as any other change. TETHER_URL (default http://127.0.0.1:8080)
// and TETHER_TOKEN (an admin API token) say where and as whom. See docs/haproxy-import.md.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** The whole of standard input (for the file `-`). */
  stdin(): Promise<string>;
}

interface Options {
  file: string;
  dryRun: boolean;
  strict: boolean;
  message?: string;
  ifMatch?: string;
}

const USAGE =
  'usage: npm run import -- <haproxy.cfg | -> [--dry-run] [--strict] [--message <text>] [--if-match <revision>]\n' +
  '  env: TETHER_URL (default http://127.0.0.1:8080), TETHER_TOKEN (an admin API token, required)';

interface Warning {
  line: number;
  text: string;
  message: string;
}

/** Runs the command; the exit code: 0 done, 1 refused by Tether (or unreachable), 2 wrong usage. */
export async function runImport(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const options = parseArgs(args);
  if (typeof options === 'string') {
    io.err(`${options}\n${USAGE}`);
    return 2;
  }
  const token = env.TETHER_TOKEN;
  if (!token) {
    io.err(
      `TETHER_TOKEN is not set: create an admin API token (POST /api/v1/tokens) and export it\n${USAGE}`,
    );
    return 2;
  }
  let text: string;
  try {
    text = options.file === '-' ? await io.stdin() : await readFile(options.file, 'utf8');
  } catch (error) {
    io.err(`cannot read ${options.file}: ${(error as Error).message}`);
    return 2;
  }
  const url = new URL('/api/v1/import/haproxy', env.TETHER_URL || 'http://127.0.0.1:8080');
  if (options.dryRun) url.searchParams.set('dryRun', 'true');
  if (options.strict) url.searchParams.set('strict', 'true');
  if (options.message) url.searchParams.set('message', options.message);
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    'content-type': 'text/plain; charset=utf-8',
  };
  if (options.ifMatch) headers['if-match'] = `"${options.ifMatch}"`;

  let status: number;
  let body: Record<string, unknown>;
  try {
    const response = await fetch(url, { method: 'POST', headers, body: text });
    status = response.status;
    body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  } catch (error) {
    io.err(`cannot reach Tether at ${url.origin}: ${(error as Error).message}`);
    return 1;
  }

  for (const w of (body.warnings as Warning[] | undefined) ?? []) {
    io.err(
      w.line > 0 ? `warning: line ${w.line}: ${w.text}\n         ${w.message}` : `warning: ${w.message}`,
    );
  }
  if (status < 200 || status > 299) {
    const errors = (body.errors as Array<{ message: string }> | undefined) ?? [];
    io.err(`refused (${status} ${String(body.code ?? '')}):`);
    for (const e of errors.length > 0 ? errors : [{ message: String(body.message ?? 'no details') }]) {
      io.err(`  ${e.message}`);
    }
    return 1;
  }
  if (options.dryRun) {
    const changes = (body.changes as unknown[] | undefined) ?? [];
    io.out(String(body.text ?? ''));
    io.out(
      `dry run against revision ${String(body.revision)}: ${changes.length} change(s), nothing applied; impact: ${JSON.stringify(body.impact)}`,
    );
  } else if (body.changed) io.out(`imported: revision ${String(body.revision)} is in effect`);
  else io.out(`nothing changed: revision ${String(body.revision)} already says the same`);
  return 0;
}

function parseArgs(args: string[]): Options | string {
  let file: string | undefined;
  const options: Omit<Options, 'file'> = { dryRun: false, strict: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--dry-run') options.dryRun = true;
    else if (arg === '--strict') options.strict = true;
    else if (arg === '--message' || arg === '--if-match') {
      const value = args[++i];
      if (value === undefined) return `${arg} needs a value`;
      if (arg === '--message') options.message = value;
      else options.ifMatch = value;
    } else if (arg.startsWith('--')) return `unknown option ${arg}`;
    else if (file === undefined) file = arg;
    else return `one file only (got ${file} and ${arg})`;
  }
  if (file === undefined) return 'which file?';
  return { file, ...options };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const io: CliIo = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    stdin: readStdin,
  };
  process.exitCode = await runImport(process.argv.slice(2), process.env, io);
}
