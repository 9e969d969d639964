import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readLabels, isSafeId } from '../../src/labels.js';
import { RetinaError } from '../../src/core/errors.js';
import { KAGGLE_SAMPLE, tempDir } from '../helpers/cli.js';
import { kaggleSample } from '../helpers/requirements.js';

const sample = kaggleSample();

let dir: string, cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('retina-labels-')));
afterAll(() => cleanup());

async function csv(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

describe('readLabels', () => {
  it('reads Kaggle trainLabels.csv (image,level) with CSV line numbers', async () => {
    const r = await readLabels(await csv('k.csv', 'image,level\n10_left,0\n10_right,3\n'));
    expect(r.columns).toEqual({ id: 'image', label: 'level' });
    expect(r.rows).toEqual([{ id: '10_left', label: 0, line: 2 }, { id: '10_right', label: 3, line: 3 }]);
    expect(r.problems).toEqual([]);
  });

  it('reads trainLabels_cropped.csv (two unnamed index columns before image,level)', async () => {
    const r = await readLabels(await csv('c.csv', ',Unnamed: 0,image,level\n0,0,10_left,0\n1,1,10_right,2\n'));
    expect(r.rows.map((x) => [x.id, x.label])).toEqual([['10_left', 0], ['10_right', 2]]);
  });

  it('reads APTOS (id_code,diagnosis) by detection and by explicit columns', async () => {
    const file = await csv('a.csv', 'id_code,diagnosis\n000c1434d8d7,2\n001639a390f0,4\n');
    expect((await readLabels(file)).rows.map((x) => x.id)).toEqual(['000c1434d8d7', '001639a390f0']);
    const r = await readLabels(await csv('x.csv', 'name,dr,extra\na,1,x\nb,0,y\n'), { idColumn: 'name', labelColumn: 'dr' });
    expect(r.rows.map((x) => [x.id, x.label])).toEqual([['a', 1], ['b', 0]]);
  });

  it('names a missing column with the header it found', async () => {
    const file = await csv('m.csv', 'image,level\na,1\n');
    const err = await readLabels(file, { idColumn: 'id_code' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetinaError);
    expect((err as RetinaError).code).toBe('BAD_ARGUMENT');
    expect((err as RetinaError).message).toContain('image,level');
    const err2 = await readLabels(await csv('n.csv', 'foo,bar\na,1\n')).catch((e: unknown) => e);
    expect((err2 as RetinaError).code).toBe('BAD_INPUT');
  });

  it('reports each kind of bad row with its line: malformed, empty, bad grade, duplicate, unsafe id', async () => {
    const text = [
      'image,level',
      'ok_left,0', // 2
      'short', // 3 malformed
      '', // 4 empty
      'grade_left,7', // 5
      'neg_left,-1', // 6
      'text_left,two', // 7
      'dup_left,1', // 8
      'dup_left,1', // 9
      '../etc/passwd,0', // 10
      ',2', // 11 empty id
      'a,b,c', // 12 malformed
      'ok_right,4', // 13
    ].join('\n') + '\n';
    const r = await readLabels(await csv('bad.csv', text));
    expect(r.rows.map((x) => [x.id, x.line])).toEqual([['ok_left', 2], ['ok_right', 13]]);
    const kinds = r.problems.map((p) => [p.line, p.kind]);
    expect(kinds).toEqual([
      [3, 'malformed'], [4, 'empty'], [5, 'bad-grade'], [6, 'bad-grade'], [7, 'bad-grade'],
      [8, 'duplicate'], [9, 'duplicate'], [10, 'unsafe-id'], [11, 'empty'], [12, 'malformed'],
    ]);
    expect(r.problems.find((p) => p.line === 9)?.reason).toContain('first on line 8');
    expect(r.total).toBe(12);
  });

  it.skipIf(!sample.available)('--limit reads only the first N data rows', async () => {
    const r = await readLabels(join(KAGGLE_SAMPLE, 'trainLabels.csv'), { limit: 10 });
    expect(r.rows.map((x) => x.id)).toEqual(['10_left', '10_right', '13_left', '13_right', '15_left', '15_right', '16_left', '16_right', '17_left', '17_right']);
  });

  it.skipIf(!sample.available)('streams the real 35,126-row Kaggle file', async () => {
    const r = await readLabels(join(KAGGLE_SAMPLE, 'trainLabels.csv'));
    expect(r.rows).toHaveLength(35126);
    expect(r.problems).toEqual([]);
    expect(r.rows.at(-1)?.line).toBe(35127);
    const counts = [0, 0, 0, 0, 0];
    for (const x of r.rows) counts[x.label]!++;
    expect(counts).toEqual([25810, 2443, 5292, 873, 708]);
  });

  it('a missing file is NOT_FOUND', async () => {
    const err = await readLabels(join(dir, 'nope.csv')).catch((e: unknown) => e);
    expect((err as RetinaError).code).toBe('NOT_FOUND');
  });

  it('isSafeId refuses separators and dot names', () => {
    for (const bad of ['..', '.', 'a/b', '..\\x', '../x', 'a\0b']) expect(isSafeId(bad)).toBe(false);
    for (const ok of ['10_left', 'a.b', '..x', 'abc.png']) expect(isSafeId(ok)).toBe(true);
  });
});
