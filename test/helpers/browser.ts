// Debian's Chromium driven by playwright-core, for the console's end-to-end tests. No browser is
// ever downloaded: without /usr/bin/chromium the tests skip and say why (CI installs it).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or false. */
export function browserSkipReason(): string | false {
  return existsSync(CHROMIUM) ? false : `chromium not installed (${CHROMIUM}; Debian: apt-get install chromium)`;
}

/** Where the test run writes screenshots for review (git-ignored). */
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'console');

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Problems the page reported: CSP violations, script errors, dialogs (an injected script ran). */
  problems: string[];
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'aspen-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const problems: string[] = [];
  const watched = new WeakSet<Page>();
  const watch = (page: Page) => {
    if (watched.has(page)) return;
    watched.add(page);
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`script error: ${err.message}`));
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
  };
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    page,
    problems,
    screenshot: async (p, name) => {
      await p.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
