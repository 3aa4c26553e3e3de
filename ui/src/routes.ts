// The console's pages, addressed by the location's hash (#/keys, #/watch…),
// so that the server serves one page and every address can be bookmarked.
export const pages = [
  { path: 'keys', title: 'Keys' },
  { path: 'watch', title: 'Watch' },
  { path: 'leases', title: 'Leases' },
  { path: 'coordination', title: 'Coordination' },
  { path: 'cluster', title: 'Cluster' },
] as const;

export type PagePath = (typeof pages)[number]['path'];

export interface Route {
  readonly page: PagePath;
  /** What follows the page's path: ?key=… and the like. */
  readonly params: URLSearchParams;
}

export function routeOf(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const page = pages.find((candidate) => candidate.path === path)?.path ?? 'keys';
  return { page, params: new URLSearchParams(query) };
}

export function hashOf(page: PagePath, params: Record<string, string> = {}): string {
  const query = new URLSearchParams(params).toString();
  return `#/${page}${query === '' ? '' : `?${query}`}`;
}
