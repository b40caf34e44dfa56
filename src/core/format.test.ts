import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatBytes, formatNumber, formatUtc } from './format.js';

describe('figures shared by the server and the page script', () => {
  test('bytes: binary units, one decimal under 10 of a unit', () => {
    assert.deepEqual(
      [0, 512, 1536, 10 * 1024, 993 * 1024 ** 2, 1024 ** 3, 15.3 * 1024 ** 3, 2048 * 1024 ** 4, -1536].map(
        formatBytes,
      ),
      ['0 B', '512 B', '1.5 KB', '10 KB', '993 MB', '1.0 GB', '15 GB', '2048 TB', '-1.5 KB'],
    );
  });

  test('numbers: short, with their unit', () => {
    assert.deepEqual(
      [
        formatNumber(5),
        formatNumber(0.4567),
        formatNumber(45.67, 'ms'),
        formatNumber(812.4, 'ms'),
        formatNumber(12_345),
        formatNumber(73.4, '%'),
        formatNumber(1536, 'bytes'),
      ],
      ['5', '0.46', '45.7 ms', '812 ms', '12.3k', '73.4%', '1.5 KB'],
    );
  });

  test('times in UTC to the second; a time no date can show is "never"', () => {
    assert.equal(formatUtc(Date.UTC(2026, 0, 1, 12, 0, 0, 789)), '2026-01-01 12:00:00 UTC');
    assert.equal(formatUtc(9e15), 'never');
    assert.equal(formatUtc(Number.NaN), 'never');
  });
});
