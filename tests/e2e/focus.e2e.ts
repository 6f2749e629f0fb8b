// Keyboard focus is visible on every control: Tab through each panel and, at every stop, the focused element (or,
// for a file chooser — a hidden <input type=file> behind its label — that label) draws an outline or a box-shadow.
// The file choosers are counted, so a panel whose choosers were skipped by Tab fails too.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { assertNoConsoleErrors, launchBrowser, openPanel, openStudio } from './browser.ts';

/** What the focused element shows: its description and whether a focus ring is drawn (on it or on its label). */
function focusState(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return null;
    const ring = (e: Element) => {
      const cs = getComputedStyle(e);
      return (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none';
    };
    const fileInput = el instanceof HTMLInputElement && el.type === 'file';
    const shown = fileInput ? (el.labels?.[0] ?? null) : el;
    const what = `${el.tagName.toLowerCase()}${el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''} "${(shown?.textContent ?? el.getAttribute('aria-label') ?? '').trim().slice(0, 40)}"`;
    // each element is marked once, so Tab coming back to the first one ends the walk
    const again = el.dataset.focusWalk === '1';
    el.dataset.focusWalk = '1';
    return { what, again, file: fileInput, visible: !!shown && ring(shown) && el.matches(':focus-visible') };
  });
}

async function tabThrough(page: Page, max = 120): Promise<{ stops: number; files: number; hidden: string[] }> {
  const hidden: string[] = [];
  let files = 0;
  let stops = 0;
  await page.locator('[role="tabpanel"], main').first().click({ position: { x: 1, y: 1 } });
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const s = await focusState(page);
    if (!s) continue;
    if (s.again) break;
    stops++;
    if (s.file) files++;
    if (!s.visible) hidden.push(s.what);
  }
  return { stops, files, hidden };
}

describe('keyboard focus', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ webgpu: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows a focus ring on every control, file choosers included', async () => {
    const s = await openStudio(browser, inject('baseUrl'));
    const { page } = s;
    await page.getByTestId('gpu-name').waitFor({ timeout: 60_000 });
    // the panels with file choosers: JSONL import, config import, continue-from folder, model folder / files, batch
    // scoring and best-of-N
    const want: Record<string, number> = { 'Model & data': 1, Configure: 1, Train: 1, 'Evaluate & compare': 4 };
    for (const [panel, files] of Object.entries(want)) {
      await openPanel(page, panel);
      const r = await tabThrough(page);
      expect(r.hidden, `${panel}: focused without a visible ring`).toEqual([]);
      expect(r.files, `${panel}: file choosers reached by Tab`).toBeGreaterThanOrEqual(files);
      expect(r.stops, panel).toBeGreaterThan(files);
    }
    assertNoConsoleErrors(s);
  });
});
