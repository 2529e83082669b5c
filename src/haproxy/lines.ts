// haproxy.cfg text → statements: one per logical line, split into words as HAProxy splits them
// (quotes, backslash escapes, `#` comments), with the line number where the statement starts.
// Lines ending in a backslash continue on the next one. Linear in the size of the text.

export interface Statement {
  /** 1-based number of the (first) line. */
  line: number;
  /** The statement as written, trimmed, continuations joined by a space. */
  text: string;
  words: string[];
  /** A `${VAR}` reference was found: HAProxy expands it from its environment, the import cannot. */
  envRefs: string[];
  /** 1-based position of a quote left open to the end of the statement (HAProxy: "unmatched quote", fatal). */
  unmatchedQuoteAt?: number;
}

/** Longest statement text kept in a warning: a warning quotes the line, not a megabyte of it. */
export const MAX_QUOTED = 200;

/** Longest warning message: messages name words of the file, and one word may be a megabyte long. */
export const MAX_MESSAGE = 400;

/** Control characters shown as U+FFFD: JSON would spell each as six bytes, and a terminal would obey them. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

export function quote(text: string): string {
  const short = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED - 3)}...` : text;
  return short.replace(CONTROLS, '\uFFFD');
}

/** A message of at most MAX_MESSAGE characters: an over-long middle (a huge name) is cut, its end (the why) kept. */
export function boundMessage(message: string): string {
  const short =
    message.length > MAX_MESSAGE
      ? `${message.slice(0, MAX_MESSAGE - 143)}...${message.slice(message.length - 140)}`
      : message;
  return short.replace(CONTROLS, '\uFFFD');
}

/** Where the first NUL byte is (HAProxy refuses such a file: "Stray NUL character"), or undefined. */
export function strayNul(source: string): { line: number; position: number; before: string } | undefined {
  const at = source.indexOf('\0');
  if (at < 0) return undefined;
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf('\n'); i >= 0 && i < at; i = source.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, position: at - lineStart + 1, before: quote(source.slice(lineStart, at).trim()) };
}

export function splitStatements(source: string): Statement[] {
  const lines = source.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const statements: Statement[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    // A trailing backslash (not itself escaped) joins the next line; each part is looked at once.
    const parts: string[] = [];
    let part = lines[i];
    while (endsWithContinuation(part) && i + 1 < lines.length) {
      parts.push(part.trimEnd().slice(0, -1));
      part = lines[++i];
    }
    parts.push(part);
    const raw = parts.join(' ');
    const { words, envRefs, unmatchedQuoteAt } = splitWords(raw);
    if (words.length === 0 && unmatchedQuoteAt === undefined) continue;
    const statement: Statement = { line: start + 1, text: quote(stripComment(raw).trim()), words, envRefs };
    if (unmatchedQuoteAt !== undefined) statement.unmatchedQuoteAt = unmatchedQuoteAt;
    statements.push(statement);
  }
  return statements;
}

function endsWithContinuation(line: string): boolean {
  const trimmed = line.trimEnd();
  if (!trimmed.endsWith('\\')) return false;
  let slashes = 0;
  for (let j = trimmed.length - 1; j >= 0 && trimmed[j] === '\\'; j--) slashes++;
  return slashes % 2 === 1;
}

/** The line without its comment (for quoting it back in warnings). */
function stripComment(line: string): string {
  let quoteChar = '';
  for (let j = 0; j < line.length; j++) {
    const c = line[j];
    if (c === '\\') j++;
    else if (quoteChar) {
      if (c === quoteChar) quoteChar = '';
    } else if (c === '"' || c === "'") quoteChar = c;
    else if (c === '#') return line.slice(0, j);
  }
  return line;
}

function splitWords(line: string): { words: string[]; envRefs: string[]; unmatchedQuoteAt?: number } {
  const words: string[] = [];
  const envRefs: string[] = [];
  let word = '';
  let inWord = false;
  let quoteChar = '';
  let quoteAt = 0;
  for (let j = 0; j < line.length; j++) {
    const c = line[j];
    if (quoteChar) {
      if (c === quoteChar) quoteChar = '';
      else if (c === '\\' && quoteChar === '"') {
        const [text, used] = escaped(line, j, true);
        word += text;
        j += used - 1;
      } else word += c;
      continue;
    }
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    if (c === '#') break;
    inWord = true;
    if (c === '"' || c === "'") {
      quoteChar = c;
      quoteAt = j + 1;
    } else if (c === '\\') {
      const [text, used] = escaped(line, j, false);
      word += text;
      j += used - 1;
    } else word += c;
  }
  if (inWord) words.push(word);
  for (const match of stripComment(line).matchAll(/\$\{([^}]{0,64})\}/g)) envRefs.push(match[1]);
  return quoteChar ? { words, envRefs, unmatchedQuoteAt: quoteAt } : { words, envRefs };
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * The backslash sequence at `line[j]` as HAProxy's parse_line() reads it (outside single quotes): `\\`, `\ `,
 * `\#`, `\'`, `\"` give the character, `\t` `\n` `\r` a tab, LF and CR, `\xHH` that byte (as a char code),
 * `\$` a `$` inside double quotes; any other pair is kept as written, backslash included (HAProxy's `\1`).
 * Returns the text and how many characters of the line it used.
 */
function escaped(line: string, j: number, inDoubleQuotes: boolean): [string, number] {
  const next = line[j + 1];
  switch (next) {
    case ' ':
    case '\\':
    case '#':
    case "'":
    case '"':
      return [next, 2];
    case 't':
      return ['\t', 2];
    case 'n':
      return ['\n', 2];
    case 'r':
      return ['\r', 2];
    case '$':
      return inDoubleQuotes ? ['$', 2] : ['\\', 1];
    case 'x': {
      const hex = line.slice(j + 2, j + 4);
      return HEX.test(hex) ? [String.fromCharCode(parseInt(hex, 16)), 4] : ['\\', 1];
    }
    default:
      return ['\\', 1];
  }
}
