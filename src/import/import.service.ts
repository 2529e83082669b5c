import { Injectable } from '@nestjs/common';
import type { ChangeContext } from '../common/change-context.js';
import { NotImplementedError, ValidationError, type DomainError, type ErrorEntry } from '../common/errors.js';
import { ConfigService } from '../config/config.service.js';
import { normalizeSnapshot } from '../config/normalize.js';
import { maskSnapshot } from '../config/secrets.js';
import type { DisabledServer } from '../haproxy/assemble.js';
import { HaproxyImportError, parseHaproxyConfig, type ImportResult } from '../haproxy/parse.js';
import { ServerStatesService } from '../backends/server-states.service.js';
import type { ImportAdminStateDto, ImportDryRunDto, ImportResultDto } from './import.dto.js';
import { withWarnings } from './import-warnings.js';

/**
 * haproxy.cfg in, one revision (kind import) out, through the same pipeline as every change: the
 * file's TCP sections replace the whole config (docs/haproxy-import.md).
 */
@Injectable()
export class HaproxyImportService {
  constructor(
    private readonly config: ConfigService,
    private readonly serverStates: ServerStatesService,
  ) {}

  async dryRun(text: string, strict: boolean): Promise<ImportDryRunDto> {
    const { snapshot, warnings, disabled } = parse(text, strict);
    try {
      const result = await this.config.validate(snapshot);
      return {
        dryRun: true,
        valid: true,
        ...result,
        config: maskSnapshot(normalizeSnapshot(snapshot)),
        warnings,
        adminStates: disabled.map(maintOf),
      };
    } catch (error) {
      throw withWarnings(error, warnings);
    }
  }

  async apply(text: string, strict: boolean, context: ChangeContext): Promise<ImportResultDto> {
    const { snapshot, warnings, disabled } = parse(text, strict);
    const maint =
      disabled.length > 0
        ? this.serverStates.maintWithChange(disabled, context, 'disabled in the imported haproxy.cfg')
        : undefined;
    try {
      const result = await this.config.commit(
        { context, action: 'config.import', target: 'config', kind: 'import', message: 'import haproxy.cfg' },
        () => ({ snapshot }),
        { adminStates: maint },
      );
      maint?.settled();
      return {
        revision: result.revision,
        changed: result.changed,
        warnings,
        adminStates: disabled.map(maintOf),
      };
    } catch (error) {
      throw withWarnings(error, warnings);
    }
  }
}

function maintOf({ backend, server, line }: DisabledServer): ImportAdminStateDto {
  return {
    backend,
    server,
    state: 'maint',
    line,
    message: `${backend}/${server} will be in maint: disabled in the file`,
  };
}

/** The parser's refusal as the API's error: each problem an entry whose field is `line N`. */
function parse(text: string, strict: boolean): ImportResult {
  try {
    return parseHaproxyConfig(text, { strict });
  } catch (error) {
    if (!(error instanceof HaproxyImportError)) throw error;
    const entries = error.problems.map((p): ErrorEntry => ({
      field: p.line > 0 ? `line ${p.line}` : '',
      code: p.kind === 'not-built' ? 'NOT_IMPLEMENTED' : 'VALIDATION_FAILED',
      message: p.line > 0 ? `line ${p.line} (${p.text}): ${p.message}` : p.message,
    }));
    const [first] = entries;
    const Kind = first.code === 'NOT_IMPLEMENTED' ? NotImplementedError : ValidationError;
    const refused: DomainError = new Kind(first.message, first.field || undefined, entries);
    throw withWarnings(refused, error.warnings);
  }
}
