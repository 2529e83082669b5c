// A raw Server-Sent Events reader over node:http, so the test sees exactly what a browser would.
import http from 'node:http';

export interface SseEvent {
  type: string;
  data: unknown;
  receivedAt: number;
}

export interface EventStream {
  status: number;
  contentType: string | undefined;
  readonly events: SseEvent[];
  /** Resolves with the first event (received so far or later) after index `from` that matches. */
  next(match: (e: SseEvent) => boolean, from?: number, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

export function openEventStream(url: string, headers: Record<string, string>): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (response) => {
      const events: SseEvent[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) type = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length === 0) continue;
          const text = data.join('\n');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          events.push({ type, data: parsed, receivedAt: Date.now() });
          waiters.forEach((wake) => wake());
        }
      });
      response.on('error', () => {});
      resolve({
        status: response.statusCode ?? 0,
        contentType: response.headers['content-type'],
        events,
        next: (match, from = 0, timeoutMs = 5000) =>
          new Promise((found, fail) => {
            const check = () => {
              const hit = events.slice(from).find(match);
              if (!hit) return false;
              waiters.delete(check);
              clearTimeout(timer);
              found(hit);
              return true;
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(
                new Error(`no matching SSE event within ${timeoutMs} ms (got ${events.map((e) => e.type)})`),
              );
            }, timeoutMs);
            if (!check()) waiters.add(check);
          }),
        close: () => request.destroy(),
      });
    });
    request.on('error', reject);
  });
}
