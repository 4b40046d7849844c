import { describe, expect, it } from 'vitest';
import { MONEY_USAGE, runMoneyCommand } from '../../src/cli/money-commands.ts';

/** The command words of each `tally …` line of a usage text: up to the first flag or placeholder. */
function commandsIn(usage: string): string[] {
  return usage
    .split('\n')
    .map((line) => /^\s+tally ((?:[a-z]+)(?: [a-z]+)*)/.exec(line)?.[1])
    .filter((c): c is string => c !== undefined);
}

describe('the money commands the CLI lists', () => {
  it('are each dispatched, not answered "Unknown command"', async () => {
    const listed = commandsIn(MONEY_USAGE);
    expect(listed).toContain('ledger backfill');
    expect(listed.length).toBeGreaterThanOrEqual(7);
    const reached: string[] = [];
    for (const command of listed) {
      // A recognised command opens the gateway's database; this one records that and stops there.
      const result = await runMoneyCommand(
        command,
        {},
        () => {},
        async () => {
          reached.push(command);
          return 0 as never;
        },
        process.stderr,
      );
      expect(result, command).not.toBeNull();
    }
    expect(reached).toEqual(listed);
  });

  it('leaves other commands to the rest of the CLI', async () => {
    const result = await runMoneyCommand(
      'ledger vanish',
      {},
      () => {},
      async () => 0 as never,
      process.stderr,
    );
    expect(result).toBeNull();
  });
});
