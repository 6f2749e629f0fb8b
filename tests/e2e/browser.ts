// Browser helpers for the e2e tests: launch Debian's chromium with WebGPU on SwiftShader (or with WebGPU off),
// open the studio at 1280×800, collect console errors (a test fails on any), and save screenshots to
// test-results/screenshots/ (the README tour's set also to docs/screenshots/ with REWARD_STUDIO_DOC_SCREENSHOTS=1).
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOT_DIR = path.join(root, 'test-results', 'screenshots');

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Flags from ../shared/WEBGPU_TESTING.md: headless, no sandbox (root in CI), no outside network. */
const BASE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
];

export async function launchBrowser(opts: { webgpu: boolean }): Promise<Browser> {
  const args = [...BASE_FLAGS, ...(opts.webgpu ? ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader'] : ['--disable-webgpu'])];
  try {
    return await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
  } catch (e) {
    throw new Error(
      `Could not start Chromium at ${CHROMIUM_PATH}: ${(e as Error).message}\n` +
        'Install it with `apt-get update && apt-get install -y chromium` or set CHROMIUM_PATH (npm test does both).',
      { cause: e },
    );
  }
}

export interface StudioPage {
  page: Page;
  /** Console errors and uncaught exceptions seen so far (page and workers). */
  errors: string[];
}

/** Opens the studio at 1280×800 and starts collecting console errors. */
export async function openStudio(browser: Browser, url: string): Promise<StudioPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  return openStudioIn(context, url);
}

/** Opens the studio in a new tab of `context` (same browser storage: a tab opened again after one was closed). */
export async function openStudioIn(context: BrowserContext, url: string): Promise<StudioPage> {
  const page = await context.newPage();
  const errors: string[] = [];
  const onConsole = (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()} (${m.location().url}:${m.location().lineNumber})`);
  };
  page.on('console', onConsole);
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  page.on('worker', (w) => {
    w.on('console', onConsole);
  });
  await page.goto(url);
  return { page, errors };
}

/** Throws listing every console error seen (call at the end of each test). */
export function assertNoConsoleErrors(s: StudioPage): void {
  if (s.errors.length) throw new Error(`The page logged ${s.errors.length} console error(s):\n${s.errors.join('\n')}`);
}

/** Throws if an error note is shown anywhere on the page (the studio shows errors where they happen). */
export async function assertNoErrorNotes(page: Page): Promise<void> {
  const notes = await page.locator('[data-testid^="error-"]').allTextContents();
  if (notes.length) throw new Error(`The page shows error notes:\n${notes.join('\n')}`);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The README tour's screenshots (committed): one per panel at 1280×800, e.g. 4-train.png. */
export const DOC_SCREENSHOT_DIR = path.join(root, 'docs', 'screenshots');

/**
 * A panel screenshot for the README tour: saved with the test artifacts, and copied to docs/screenshots/ when
 * REWARD_STUDIO_DOC_SCREENSHOTS=1 (so an ordinary test run leaves the committed images alone).
 */
export async function docScreenshot(page: Page, name: string): Promise<string> {
  // the tour shows each panel from its top
  await page.evaluate(() => window.scrollTo(0, 0));
  const file = await screenshot(page, `doc-${name}`);
  if (process.env.REWARD_STUDIO_DOC_SCREENSHOTS === '1') {
    mkdirSync(DOC_SCREENSHOT_DIR, { recursive: true });
    copyFileSync(file, path.join(DOC_SCREENSHOT_DIR, `${name}.png`));
  }
  return file;
}

/** Opens a panel by its tab label. */
export async function openPanel(page: Page, label: string): Promise<void> {
  await page.getByRole('tab', { name: label }).click();
}
