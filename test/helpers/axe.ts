import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS } from './browser.ts';

/** axe-core (pinned dev dependency), evaluated in the page over CDP, so the page's CSP does not block it. */
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * Runs axe's WCAG 2.x A/AA rules and best practices on the page as it is now and returns the
 * serious and critical violations (moderate/minor ones go to the artifact only). Every finding is
 * written to .test-artifacts/web/axe-<name>.json so a failure can be read without rerunning.
 */
export async function seriousA11yViolations(page: Page, name: string): Promise<AxeFinding[]> {
  if (!(await page.evaluate<boolean>('typeof window.axe === "object"'))) await page.evaluate(AXE);
  const raw = await page.evaluate<
    Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }>
  >(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target.map(String) })) })))`,
  );
  const findings = raw.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(' ')),
  }));
  writeFileSync(join(ARTIFACTS, `axe-${name}.json`), `${JSON.stringify(findings, null, 2)}\n`);
  return findings.filter((f) => f.impact === 'serious' || f.impact === 'critical');
}
