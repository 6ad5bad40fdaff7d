// Listings the admin API pages with an opaque cursor: one page, or every page with --all.
import type { ApiClient, Query } from './api-client.ts';

export async function collectPages<K extends string, T>(
  api: ApiClient,
  path: string,
  key: K,
  query: Query,
  options: { limit?: string; cursor?: string; all: boolean },
): Promise<{ items: T[]; next: string | null }> {
  const items: T[] = [];
  let cursor = options.cursor;
  for (;;) {
    const page = await api.get<Record<K, T[]> & { next_cursor: string | null }>(path, { ...query, limit: options.limit, cursor });
    items.push(...page[key]);
    if (!options.all || page.next_cursor === null) return { items, next: page.next_cursor };
    cursor = page.next_cursor;
  }
}
