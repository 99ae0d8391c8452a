import { describe, expect, it } from 'vitest';
import { parseRuntimeConfig, ConfigError } from '../src/config.ts';

const base = { TABLE_NAME: 'AlertingTable', TOKEN_PEPPER: 'x'.repeat(32) };

describe('runtime configuration', () => {
  it('applies the documented defaults', () => {
    const c = parseRuntimeConfig(base);
    expect(c.HOLD_WINDOW_HOURS).toBe(24);
    expect(c.HOLD_LIMIT_MINOR).toBe(10_000);
    expect(c.TOKEN_TTL_DAYS).toBe(7);
    expect(c.ACTION_BASE_URL).toBe('https://alerts.example-bank.jp/a/');
  });

  it.each([
    [{ TABLE_NAME: undefined }, 'TABLE_NAME'],
    [{ HOLD_WINDOW_HOURS: '0' }, 'HOLD_WINDOW_HOURS'],
    [{ HOLD_LIMIT_MINOR: '-5' }, 'HOLD_LIMIT_MINOR'],
    [{ TOKEN_TTL_DAYS: 'seven' }, 'TOKEN_TTL_DAYS'],
    [{ ACTION_BASE_URL: 'alerts.example-bank.jp' }, 'ACTION_BASE_URL'],
    [{ TOKEN_PEPPER: 'short' }, 'TOKEN_PEPPER'],
    [{ TOKEN_PEPPER: undefined }, 'TOKEN_PEPPER'],
  ])('fails naming the setting for %o', (change, name) => {
    expect(() => parseRuntimeConfig({ ...base, ...change })).toThrow(ConfigError);
    expect(() => parseRuntimeConfig({ ...base, ...change })).toThrow(name);
  });
});
