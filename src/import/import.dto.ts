import { ApiProperty } from '@nestjs/swagger';
import { SnapshotDto, ValidateResponseDto } from '../config/config.dto.js';

export class ImportWarningDto {
  @ApiProperty({ description: '1-based line of the statement in the file; 0 for the file as a whole' })
  line: number;
  @ApiProperty({ description: 'The statement as written (its comment left out)' })
  text: string;
  @ApiProperty({ description: 'What the import did with it, and why' })
  message: string;
}

/** POST /import/haproxy: applied as one revision (kind import). */
export class ImportResultDto {
  @ApiProperty({ description: 'Revision now in effect (also the ETag)' }) revision: number;
  @ApiProperty({ description: 'false when the file gave the config in effect (no new revision)' })
  changed: boolean;
  @ApiProperty({ type: [ImportWarningDto] }) warnings: ImportWarningDto[];
}

/** POST /import/haproxy?dryRun=true: what the import would do; nothing is changed. */
export class ImportDryRunDto extends ValidateResponseDto {
  @ApiProperty({ description: 'Always true' }) dryRun: boolean;
  @ApiProperty({ type: SnapshotDto, description: 'The config the file gives (secrets masked)' })
  config: SnapshotDto;
  @ApiProperty({ type: [ImportWarningDto] }) warnings: ImportWarningDto[];
}
