import { type Html, html } from './html.ts';
import { en } from './i18n/en.ts';

/** The one page shell: one stylesheet, at most one deferred script, nothing from elsewhere. */
export function page(input: { title: string; bodyClass: string; body: Html; script?: string }): string {
  return `<!doctype html>${html`<html lang="${en.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer"><title>${input.title}</title><link rel="stylesheet" href="/assets/app.css"></head><body class="${input.bodyClass}">${input.body}${input.script ? html`<script src="/assets/${input.script}" defer></script>` : ''}</body></html>`}`;
}
