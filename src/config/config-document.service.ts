import { Injectable } from '@nestjs/common';
import type { ChangeContext } from '../common/change-context.js';
import type {
  ConfigChangeResponseDto,
  ConfigDto,
  ConfigResponseDto,
  ValidateResponseDto,
} from './config.dto.js';
import { ConfigService } from './config.service.js';
import { clearSecretsOf, maskSnapshot } from './secrets.js';

/** The whole config as one document: read it, replace it, dry-run it. */
@Injectable()
export class ConfigDocumentService {
  constructor(private readonly config: ConfigService) {}

  get(): ConfigResponseDto {
    return { revision: this.config.revision, ...maskSnapshot(this.config.snapshot) };
  }

  async replace(dto: ConfigDto, context: ChangeContext): Promise<ConfigChangeResponseDto> {
    const result = await this.config.commit(
      {
        context,
        action: 'config.replace',
        target: 'config',
        kind: 'replace',
        message: 'replace the whole config',
        basedOn: dto.revision,
      },
      () => ({ snapshot: dto, clearSecret: clearSecretsOf(dto.backends).length > 0 }),
    );
    return { revision: result.revision, changed: result.changed, ...maskSnapshot(result.snapshot) };
  }

  async validate(dto: ConfigDto): Promise<ValidateResponseDto> {
    return { valid: true, ...(await this.config.validate(dto)) };
  }
}
