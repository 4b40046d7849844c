import { describe, expect, it } from 'vitest';
import { progressBar } from '../../src/cli/progress.ts';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { stream: { isTTY, write: (c: string) => chunks.push(c) }, chunks };
}

describe('progressBar', () => {
  it('redraws one line with \\r on a terminal, at most every 100 ms, always at the end', () => {
    const { stream, chunks } = sink(true);
    let t = 0;
    const bar = progressBar(stream, 'rescan', () => t);
    for (let done = 1; done <= 1000; done++) {
      t += 1; // 1 ms per block: ten draws at most, plus the last
      bar.update(done, 1000);
    }
    bar.finish();
    expect(chunks.every((c) => c.startsWith('\r') || c === '\n')).toBe(true);
    expect(chunks.length).toBeLessThanOrEqual(13);
    expect(chunks.at(-2)).toBe(`\rrescan [${'#'.repeat(30)}] 1000/1000 blocks 100%`);
    expect(chunks.at(-1)).toBe('\n');
  });

  it('writes whole lines at each tenth when stderr is not a terminal', () => {
    const { stream, chunks } = sink(false);
    const bar = progressBar(stream, 'rescan', () => 0);
    for (let done = 1; done <= 200; done++) bar.update(done, 200);
    bar.finish();
    expect(chunks).toHaveLength(11); // 0%, 10% … 100%
    expect(chunks.every((c) => c.endsWith('\n') && !c.includes('\r'))).toBe(true);
    expect(chunks[5]).toBe(`rescan [${'#'.repeat(15)}${'.'.repeat(15)}] 100/200 blocks 50%\n`);
    expect(chunks.at(-1)).toBe(`rescan [${'#'.repeat(30)}] 200/200 blocks 100%\n`);
  });
});
