/** "#/history?rev=3" → { page: 'history', params }. */
export function parseHash(hash: string): { page: string; params: URLSearchParams } {
  const [path, query] = hash.replace(/^#\/?/, '').split('?');
  return { page: path || 'overview', params: new URLSearchParams(query ?? '') };
}
