import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Matches } from 'class-validator';
import { ROLES, type Role } from '../../auth/roles.js';

export class CreateTokenDto {
  @ApiProperty({
    example: 'ci-deploy',
    description: 'What the token is for: shown in the list and the audit log',
  })
  @IsString()
  @Matches(/^[A-Za-z0-9_.@ -]{1,64}$/, { message: 'name must be 1-64 of A-Z a-z 0-9 _ . @ - and space' })
  name: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;
}

/** A token as listed: never its secret. */
export class TokenResponseDto {
  @ApiProperty() id: number;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty() createdBy: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: String, nullable: true }) lastUsedAt: string | null;
}

/** The answer to a creation: the only time the token itself is shown. */
export class CreatedTokenResponseDto extends TokenResponseDto {
  @ApiProperty({ description: 'Send as "Authorization: Bearer <token>". Shown once; store it now.' })
  token: string;
}
