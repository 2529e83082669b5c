import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator.js';
import { CurrentCaller, type Caller } from '../auth/caller.js';
import { RequireRole } from '../auth/roles.js';
import { numericParam } from '../common/validation.js';
import { CreateTokenDto, CreatedTokenResponseDto, TokenResponseDto } from './dto/token.dto.js';
import { TokensService } from './tokens.service.js';

@ApiTags('tokens')
@ApiBearerAuth()
@Controller('tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Get()
  @RequireRole('admin')
  list(): Promise<TokenResponseDto[]> {
    return this.tokens.list();
  }

  @Post()
  @RequireRole('admin')
  @Audited('token.create')
  create(@Body() dto: CreateTokenDto, @CurrentCaller() caller: Caller): Promise<CreatedTokenResponseDto> {
    return this.tokens.create(dto, caller);
  }

  @Delete(':id')
  @RequireRole('admin')
  @Audited('token.revoke')
  @HttpCode(204)
  revoke(
    @Param('id', numericParam('id', 'a token id (a number)')) id: number,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    return this.tokens.revoke(id, caller);
  }
}
