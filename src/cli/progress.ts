/** Where progress goes: stderr, so stdout (and --json output) stays clean. */
export interface ProgressStream {
  isTTY?: boolean;
  write(chunk: string): unknown;
}

/**
 * A text progress bar: redrawn in place with \r on a terminal (at most every 100 ms), one line per
 * 10% (or per 30 s) otherwise, so a log file gets a readable trail instead of thousands of \r.
 */
export function progressBar(
  stream: ProgressStream,
  label: string,
  now: () => number = Date.now,
  unit = 'blocks',
): { update(done: number, total: number): void; finish(): void } {
  const width = 30;
  let lastDraw = 0;
  let lastTenth = -1;
  let drawn = false;
  let last: { done: number; total: number } | null = null;
  const line = (done: number, total: number) => {
    const ratio = total === 0 ? 1 : done / total;
    const filled = Math.round(ratio * width);
    const percent = Math.floor(ratio * 100);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${unit} ${percent}%`;
  };
  return {
    update(done, total) {
      last = { done, total };
      const t = now();
      if (stream.isTTY) {
        if (done === total || t - lastDraw >= 100) {
          stream.write(`\r${line(done, total)}`);
          lastDraw = t;
          drawn = true;
        }
        return;
      }
      const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (tenth > lastTenth || t - lastDraw >= 30_000) {
        stream.write(`${line(done, total)}\n`);
        lastTenth = tenth;
        lastDraw = t;
      }
    },
    finish() {
      if (stream.isTTY && drawn) {
        if (last) stream.write(`\r${line(last.done, last.total)}`);
        stream.write('\n');
      }
    },
  };
}
