import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { SnapshotChangeDto, SnapshotDto } from '../config/config.dto.js';
import { REVISION_KINDS, type RevisionKind } from './revision.entity.js';

export class ListRevisionsQueryDto {
  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  // Past this a number is no longer exact, and past 2^63 SQLite refuses it (a 500 before this bound).
  @Max(Number.MAX_SAFE_INTEGER)
  offset?: number;
}

export class DiffQueryDto {
  @ApiPropertyOptional({
    description: "Revision to compare with (the 'before' side); default: the revision's parent",
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  // Past this a number is no longer exact, and past 2^63 SQLite refuses it (a 500 before this bound).
  @Max(Number.MAX_SAFE_INTEGER)
  against?: number;
}

export class RevisionSummaryDto {
  @ApiProperty() id: number;
  @ApiPropertyOptional({
    description: 'Revision this one was made from; absent for the first',
    nullable: true,
  })
  parentId: number | null;
  @ApiProperty({ enum: REVISION_KINDS }) kind: RevisionKind;
  @ApiProperty({ description: 'Username' }) author: string;
  @ApiProperty() message: string;
  @ApiProperty({ description: 'ISO 8601' }) createdAt: string;
  @ApiProperty({ description: 'true for the revision in effect' }) current: boolean;
}

export class RevisionDto extends RevisionSummaryDto {
  @ApiProperty({ type: SnapshotDto, description: 'Whole snapshot (secrets masked)' }) snapshot: SnapshotDto;
}

export class RevisionListDto {
  @ApiProperty({ type: [RevisionSummaryDto], description: 'Newest first' }) items: RevisionSummaryDto[];
  @ApiProperty() total: number;
  @ApiProperty({ description: 'Revision in effect (0 before the first change)' }) head: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

export class RevisionDiffDto {
  @ApiProperty({ description: "The 'before' side (0 = the empty config)" }) from: number;
  @ApiProperty({ description: "The 'after' side" }) to: number;
  @ApiProperty({ type: [SnapshotChangeDto] }) changes: SnapshotChangeDto[];
  @ApiProperty({ description: 'Unified diff of the pretty-printed snapshots (secrets masked)' }) text: string;
}
