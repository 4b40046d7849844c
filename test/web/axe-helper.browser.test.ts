import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousA11yViolations } from '../helpers/axe.ts';
import { launchBrowser } from '../helpers/browser.ts';

/**
 * The accessibility checks in the browser tests pass with no findings today; this proves the
 * checker would fail them: a page with known serious and critical problems is reported, by rule.
 */
describe('axe smoke check helper', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => browser?.close());

  it('reports unlabeled inputs, nameless buttons, missing alt text, low contrast and a missing lang', async () => {
    const page = await browser.newPage();
    await page.setContent(
      '<html><head><title>t</title></head><body><main><img src="data:,"><input id="a"><button></button><p style="color:#ddd;background:#fff">faint</p></main></body></html>',
    );
    const ids = (await seriousA11yViolations(page, 'self-check')).map((v) => v.id).sort();
    expect(ids).toEqual(['button-name', 'color-contrast', 'html-has-lang', 'image-alt', 'label']);
  }, 30_000);
});
