import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/roles.js';
import { ConfigService } from '../config/config.service.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { ProxyRuntimeApi } from '../runtime/types.js';

class ListenerPathsDto {
  @ApiProperty({
    enum: ['readstop', 'hold'],
    description:
      'How a listener at maxconn stops taking clients: readstop = stops polling, clients wait in the kernel ' +
      '(private Node internals, self-tested at start); hold = accepts and holds them unread (public API)',
  })
  pause: 'readstop' | 'hold';
  @ApiProperty({ example: 'self-test passed' }) pauseReason: string;
  @ApiProperty({
    enum: ['onread', 'public'],
    description:
      'How accepted sockets read: onread = into one runtime buffer (private Node internals, self-tested at ' +
      'start); public = plain data events',
  })
  accept: 'onread' | 'public';
  @ApiProperty({ example: 'self-test passed' }) acceptReason: string;
  @ApiProperty({
    enum: ['handle', 'stream'],
    description:
      "How the relay writes: handle = through the sockets' libuv handles (private Node internals, " +
      'self-tested at start); stream = socket.write()',
  })
  write: 'handle' | 'stream';
  @ApiProperty({ example: 'self-test passed' }) writeReason: string;
  @ApiProperty({ example: 'v20.20.2', description: 'Node version the self-tests ran on' }) node: string;
  @ApiProperty({ description: 'Listeners that fell back to holding because a return code said no' })
  pauseFallbacks: number;
}

class HealthDto {
  @ApiProperty({ example: 'ok' }) status: 'ok';
  @ApiProperty({ description: 'Revision in effect' }) revision: number;
  @ApiProperty({ description: 'Seconds since the process started' }) uptime: number;
  @ApiProperty({ type: ListenerPathsDto, description: 'docs/runtime-hot-path.md, "Node internals"' })
  listeners: ListenerPathsDto;
}

/** Liveness for load balancers and orchestrators; outside /api/v1 and needs no credentials. */
@ApiTags('health')
@Controller('healthz')
export class HealthController {
  constructor(
    private readonly config: ConfigService,
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
  ) {}

  @Get()
  @Public()
  @ApiOkResponse({ type: HealthDto })
  async get(): Promise<HealthDto> {
    const { listeners, ...paths } = await this.runtime.listenerPaths();
    return {
      status: 'ok',
      revision: this.config.revision,
      uptime: Math.round(process.uptime()),
      listeners: { ...paths, pauseFallbacks: listeners.filter((l) => l.pauseFallback !== undefined).length },
    };
  }
}
