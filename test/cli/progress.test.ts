import assert from 'node:assert/strict';
import { Progress, humanBytes } from '../../src/cli/progress.js';

function sink(isTTY: boolean): { stream: { write(s: string): void; isTTY: boolean; columns: number }; text: () => string } {
  let out = '';
  return { stream: { write: (s: string) => { out += s; }, isTTY, columns: 200 }, text: () => out };
}

describe('cli progress', () => {
  it('writes plain lines with count, total, percent and bytes when not on a terminal', () => {
    const s = sink(false);
    const p = new Progress('gc: listed objects', 4, { stream: s.stream, intervalMs: 0 });
    p.add(1, 1024);
    p.add(1, 2048);
    p.done();
    p.done();
    assert.equal(s.text(), [
      'gc: listed objects: 1/4 (25%), 1.0 KiB',
      'gc: listed objects: 2/4 (50%), 3.0 KiB',
      'gc: listed objects: 2/4 (50%), 3.0 KiB done',
      '',
    ].join('\n'));
  });

  it('limits plain lines to one per interval but always prints the final line', () => {
    const s = sink(false);
    let t = 0;
    const p = new Progress('scan', undefined, { stream: s.stream, intervalMs: 5000, now: () => t });
    for (let i = 0; i < 10; i++) {
      t += 1000;
      p.add();
    }
    p.done();
    assert.equal(s.text(), 'scan: 1\nscan: 6\nscan: 10 done\n');
  });

  it('redraws one line with \\r and a bar on a terminal, ending with a newline', () => {
    const s = sink(true);
    const p = new Progress('warmup: blocks', 2, { stream: s.stream, now: () => 0 });
    p.add(1);
    p.done();
    const text = s.text();
    assert.ok(text.startsWith('\rwarmup: blocks ['), text);
    assert.match(text, /\[#{12}-{12}\] 1\/2 \(50%\)/);
    assert.ok(text.endsWith('\x1b[K\n'));
    assert.equal(text.split('\n').length, 2);
  });

  it('prints nothing when silent', () => {
    const s = sink(false);
    const p = new Progress('x', 1, { stream: s.stream, intervalMs: 0, silent: true });
    p.add(1);
    p.done();
    assert.equal(s.text(), '');
  });

  it('formats byte counts with binary units', () => {
    assert.deepEqual([humanBytes(0), humanBytes(1023), humanBytes(1536), humanBytes(3 * 2 ** 30)], ['0 B', '1023 B', '1.5 KiB', '3.0 GiB']);
  });
});
