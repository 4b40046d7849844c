import { encode } from 'uqr';

/**
 * The payment URI as an inline SVG QR code. uqr (pinned) does the encoding; the drawing is ours:
 * one stroked path of horizontal runs on a 1-unit grid, under half the size of uqr's own SVG (a
 * closed square per module), because the checkout page's weight is mostly this. Error correction
 * M: phone cameras read it off a scratched screen, and the URIs here fit comfortably.
 */
export function qrSvg(text: string, label: string): string {
  const qr = encode(text, { ecc: 'M', border: 2 });
  const size = qr.size;
  // Each run of dark modules is one stroke along the row's middle line; runs on the same row move
  // relatively ("m2 0h3"), so a typical URI's code is ~3 KB before gzip.
  let d = '';
  for (let y = 0; y < size; y++) {
    const row = qr.data[y] ?? [];
    let pen = -1;
    let x = 0;
    while (x < size) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < size && row[x]) x++;
      d += pen < 0 ? `M${start} ${y + 0.5}h${x - start}` : `m${start - pen} 0h${x - start}`;
      pen = x;
    }
  }
  const title = label.replace(/[&<>"']/g, '');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" role="img" aria-label="${title}" shape-rendering="crispEdges"><rect width="${size}" height="${size}" fill="#fff"/><path stroke="#000" d="${d}"/></svg>`;
}
