import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACT_PATHS } from '../../src/bootstrap.ts';
import { loadConfig, redactedConfig } from '../../src/config.ts';
import { isId, newId } from '../../src/core/ids.ts';

describe('ids', () => {
  it('are prefixed, valid and sort in creation order even within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => newId('inv', 1_800_000_000_000));
    expect(ids.every((id) => isId(id, 'inv'))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(newId('inv', 1_800_000_000_001) > (ids.at(-1) ?? '')).toBe(true);
  });

  it('take fresh random bits each millisecond, across refills of the random pool', () => {
    // 2,000 milliseconds: the 4 KiB pool serves 409, so it is refilled four times.
    const tails = Array.from({ length: 2000 }, (_, i) => newId('evt', 1_900_000_000_000 + i).slice(14));
    expect(new Set(tails).size).toBe(tails.length);
    // Each of the 16 random digits takes many values across the run, as random bits would.
    for (let digit = 0; digit < 16; digit++)
      expect(new Set(tails.map((t) => t[digit])).size, `digit ${digit}`).toBeGreaterThan(20);
  });
});

describe('config', () => {
  it('takes the environment over defaults and refuses bad values at boot', () => {
    expect(loadConfig({ TALLY_PORT: '5001' }).port).toBe(5001);
    expect(() => loadConfig({ TALLY_PORT: 'eighty' })).toThrow(/TALLY_PORT/);
    expect(() => loadConfig({ TALLY_MODE: 'production', TALLY_RATE_SOURCES: 'fixed' })).toThrow(
      /fixed dev rates/,
    );
  });

  it('refuses a database URL of another scheme instead of taking it for a SQLite file name', () => {
    for (const url of ['mysql://root@db/tally', 'postgress://db/tally', 'mongodb+srv://x']) {
      expect(() => loadConfig({ TALLY_DATABASE_URL: url })).toThrow(
        /TALLY_DATABASE_URL must be a SQLite path/,
      );
    }
    expect(() => loadConfig({ TALLY_DATABASE_URL: ' ' })).toThrow(/TALLY_DATABASE_URL must not be empty/);
    for (const url of [
      './data/t.db',
      'sqlite:./t.db',
      'postgres://db/t',
      'postgresql://db/t',
      'C:\\data\\t.db',
    ])
      expect(loadConfig({ TALLY_DATABASE_URL: url }).databaseUrl).toBe(url);
  });

  it('reports a bad rate source under TALLY_RATE_SOURCES, with the invalid_config code', () => {
    let caught: unknown;
    try {
      loadConfig({ TALLY_RATE_SOURCES: 'kraken,binance' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({
      code: 'invalid_config',
      message: 'Invalid configuration: TALLY_RATE_SOURCES: unknown rate source "binance"',
    });
  });

  it('has PostgreSQL prepared statements on unless turned off, and refuses other values', () => {
    expect(loadConfig({}).pgPreparedStatements).toBe('on');
    expect(loadConfig({ TALLY_PG_PREPARED_STATEMENTS: 'off' }).pgPreparedStatements).toBe('off');
    expect(() => loadConfig({ TALLY_PG_PREPARED_STATEMENTS: 'no' })).toThrow(/TALLY_PG_PREPARED_STATEMENTS/);
  });

  it('refuses an unknown log level at boot, naming the levels', () => {
    expect(loadConfig({ TALLY_LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(() => loadConfig({ TALLY_LOG_LEVEL: 'loud' })).toThrow(
      /TALLY_LOG_LEVEL must be one of fatal, error/,
    );
  });

  it('reads TALLY_CONFIG keyed by config names; an unknown key, bad JSON or a non-object is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-config-'));
    try {
      const file = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const good = file('good.json', '{"port": 4101, "logLevel": "warn"}');
      expect(loadConfig({ TALLY_CONFIG: good })).toMatchObject({ port: 4101, logLevel: 'warn' });
      // The environment still wins over the file.
      expect(loadConfig({ TALLY_CONFIG: good, TALLY_PORT: '4102' }).port).toBe(4102);
      const envNames = file('env-names.json', '{"TALLY_PORT": 4001}');
      expect(() => loadConfig({ TALLY_CONFIG: envNames })).toThrow(
        /unknown keys "TALLY_PORT" \(write "port"\)/,
      );
      expect(() => loadConfig({ TALLY_CONFIG: file('typo.json', '{"prot": 1}') })).toThrow(
        /unknown keys "prot"/,
      );
      expect(() => loadConfig({ TALLY_CONFIG: file('bad.json', '{port: 1}') })).toThrow(
        /TALLY_CONFIG .*bad\.json/,
      );
      expect(() => loadConfig({ TALLY_CONFIG: file('list.json', '[1]') })).toThrow(/must hold a JSON object/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never prints a database password', () => {
    const c = loadConfig({ TALLY_DATABASE_URL: 'postgres://tally:hunter2@db:5432/tally' });
    expect(JSON.stringify(redactedConfig(c))).not.toContain('hunter2');
  });
});

describe('logs', () => {
  it('redact API keys, xpubs and secrets', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += chunk.toString();
        done();
      },
    });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    log.info(
      {
        req: { headers: { authorization: 'Bearer tally_sk_secret' } },
        wallet: { xpub: 'xpub6DyUKdw' },
        key: { token: 'tally_sk_abc' },
      },
      'x',
    );
    expect(out).not.toContain('tally_sk_secret');
    expect(out).not.toContain('xpub6DyUKdw');
    expect(out).not.toContain('tally_sk_abc');
    expect(out).toContain('[redacted]');
  });
});
