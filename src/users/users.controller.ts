import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator.js';
import { CurrentCaller, type Caller } from '../auth/caller.js';
import { RequireRole } from '../auth/roles.js';
import { CreateUserDto, UpdateUserDto, UserResponseDto } from './dto/user.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@ApiBearerAuth()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @RequireRole('admin')
  list(): Promise<UserResponseDto[]> {
    return this.users.list();
  }

  @Get(':username')
  @RequireRole('admin')
  get(@Param('username') username: string): Promise<UserResponseDto> {
    return this.users.get(username);
  }

  @Post()
  @RequireRole('admin')
  @Audited('user.create')
  create(@Body() dto: CreateUserDto, @CurrentCaller() caller: Caller): Promise<UserResponseDto> {
    return this.users.create(dto, caller);
  }

  @Patch(':username')
  @RequireRole('admin')
  @Audited('user.update')
  update(
    @Param('username') username: string,
    @Body() dto: UpdateUserDto,
    @CurrentCaller() caller: Caller,
  ): Promise<UserResponseDto> {
    return this.users.update(username, dto, caller);
  }

  @Delete(':username')
  @RequireRole('admin')
  @Audited('user.delete')
  @HttpCode(204)
  remove(@Param('username') username: string, @CurrentCaller() caller: Caller): Promise<void> {
    return this.users.remove(username, caller);
  }
}
