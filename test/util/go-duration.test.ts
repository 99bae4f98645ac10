import assert from 'node:assert/strict';
import { parseGoDuration } from '../../src/util/go-duration.js';

describe('parseGoDuration (Go time.ParseDuration syntax of JuiceFS URL options)', () => {
  it('reads every unit, fractions, sums of parts and signs', () => {
    const cases: [string, number][] = [
      ['30s', 30_000], ['500ms', 500], ['1m', 60_000], ['1h', 3_600_000], ['2h45m', 9_900_000], ['1.5s', 1500], ['.5s', 500],
      ['1500us', 1.5], ['1500µs', 1.5], ['2000000ns', 2], ['1m30s', 90_000], ['0', 0], ['-1s', -1000], ['+2s', 2000], ['0s', 0],
    ];
    for (const [text, ms] of cases) assert.equal(parseGoDuration(text), ms, text);
  });

  it('refuses what Go refuses: no unit, unknown units, empty, spaces, stray text', () => {
    for (const bad of ['', '30', '1x', 's', '1 s', '1s ', ' 1s', '1s2', '-', '1.2.3s', 'ms', '1d']) {
      assert.equal(parseGoDuration(bad), undefined, JSON.stringify(bad));
    }
  });
});
