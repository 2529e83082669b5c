import { ApiProperty } from '@nestjs/swagger';
import { ROLES, type Role } from '../roles.js';
import { IsString, Length } from 'class-validator';

export class LoginDto {
  @ApiProperty({ example: 'admin' })
  @IsString()
  @Length(1, 64)
  username: string;

  @ApiProperty({ writeOnly: true })
  @IsString()
  @Length(1, 256)
  password: string;
}

export class LoginUserDto {
  @ApiProperty() username: string;
  @ApiProperty({ enum: ROLES }) role: Role;
}

export class LoginResponseDto {
  @ApiProperty({ description: 'Short-lived bearer token for API calls; the session cookie is set as well' })
  token: string;

  @ApiProperty({ description: 'When the bearer token expires (ISO 8601)' })
  expiresAt: string;

  @ApiProperty({ type: LoginUserDto }) user: LoginUserDto;
}

export class MeResponseDto {
  @ApiProperty() username: string;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty({ enum: ['session', 'token'] }) via: 'session' | 'token';
  @ApiProperty({ required: false }) tokenId?: number;
}
