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

/** A server the file writes `disabled`: Tether keeps it out with the admin state maint (not config). */
export class ImportAdminStateDto {
  @ApiProperty() backend: string;
  @ApiProperty() server: string;
  @ApiProperty({ enum: ['maint'] }) state: 'maint';
  @ApiProperty({ description: 'Line of the server (or its default-server) in the file' }) line: number;
  @ApiProperty({ example: 'be/s1 will be in maint: disabled in the file' }) message: string;
}

/** POST /import/haproxy: applied as one revision (kind import). */
export class ImportResultDto {
  @ApiProperty({ description: 'Revision now in effect (also the ETag)' }) revision: number;
  @ApiProperty({ description: 'false when the file gave the config in effect (no new revision)' })
  changed: boolean;
  @ApiProperty({ type: [ImportWarningDto] }) warnings: ImportWarningDto[];
  @ApiProperty({
    type: [ImportAdminStateDto],
    description:
      'Servers put in maint with the revision (`disabled` in the file); empty when nothing changed',
  })
  adminStates: ImportAdminStateDto[];
}

/** POST /import/haproxy?dryRun=true: what the import would do; nothing is changed. */
export class ImportDryRunDto extends ValidateResponseDto {
  @ApiProperty({ description: 'Always true' }) dryRun: boolean;
  @ApiProperty({ type: SnapshotDto, description: 'The config the file gives (secrets masked)' })
  config: SnapshotDto;
  @ApiProperty({ type: [ImportWarningDto] }) warnings: ImportWarningDto[];
  @ApiProperty({
    type: [ImportAdminStateDto],
    description:
      'Servers the import would put in maint (`disabled` in the file); empty when it would change nothing',
  })
  adminStates: ImportAdminStateDto[];
}
