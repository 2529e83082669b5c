import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { ROLES, type Role } from '../../auth/roles.js';

export const USERNAME_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;
export const PASSWORD_MIN_LENGTH = 8;

export class CreateUserDto {
  @ApiProperty({ example: 'alice', pattern: USERNAME_PATTERN.source })
  @IsString()
  @Matches(USERNAME_PATTERN, { message: 'username must be 1-64 of A-Z a-z 0-9 _ . @ -' })
  username: string;

  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH, maxLength: 256, writeOnly: true })
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, 256)
  password: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ minLength: PASSWORD_MIN_LENGTH, maxLength: 256, writeOnly: true })
  @IsOptional()
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, 256)
  password?: string;

  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;
}

/** What the API says about a user: never the password or its hash. */
export class UserResponseDto {
  @ApiProperty() id: number;
  @ApiProperty() username: string;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}
