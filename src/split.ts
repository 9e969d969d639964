import { badArgument } from './core/errors.js';
import { hashString } from './rng.js';
import type { Split } from '../formats/types.js';

/**
 * The patient an image belongs to: Kaggle ids are `<patient>_<left|right>`, so both eyes share
 * one patient. Any other id is its own patient.
 */
export function patientOf(id: string): string {
  const m = /^(.+)_(left|right)$/i.exec(id);
  return m ? m[1]! : id;
}

/**
 * Deterministic train/val split by patient, stratified by grade.
 *
 * Patients are grouped by their worst grade (the grade that matters clinically and the rarest,
 * so it is the one to stratify on); within each grade a seeded hash orders the patients and the
 * first `round(fraction * n)` go to validation (see `validationCounts` for small datasets). Both eyes of a patient always land in the same
 * split (no leakage), every grade keeps close to `fraction` of its patients in validation, and the
 * result depends only on the set of (id, label) pairs, the fraction and the seed: never on row
 * order, thread count or shard, so every Slurm task computes the same split.
 */
export function assignSplits(items: readonly { id: string; label: number }[], fraction: number, seed: number): Map<string, Split> {
  if (!(fraction >= 0 && fraction < 1)) throw badArgument('--val-fraction', 'a number in [0, 1)', fraction);
  const worst = new Map<string, number>();
  for (const { id, label } of items) {
    const p = patientOf(id);
    worst.set(p, Math.max(worst.get(p) ?? -Infinity, label));
  }
  const byGrade = new Map<number, string[]>();
  for (const [patient, grade] of worst) {
    const list = byGrade.get(grade) ?? [];
    list.push(patient);
    byGrade.set(grade, list);
  }
  // Grades in a fixed order, patients within a grade in seeded-hash order.
  const groups = [...byGrade.entries()].sort((a, b) => a[0] - b[0]).map(([, patients]) => {
    const keyed = patients.map((p) => ({ p, k: hashString(`${seed >>> 0}:${p}`) }));
    keyed.sort((a, b) => a.k - b.k || (a.p < b.p ? -1 : a.p > b.p ? 1 : 0));
    return keyed.map((x) => x.p);
  });
  const take = validationCounts(groups.map((g) => g.length), fraction);
  const valPatients = new Set<string>();
  groups.forEach((g, i) => { for (let j = 0; j < take[i]!; j++) valPatients.add(g[j]!); });
  const out = new Map<string, Split>();
  for (const { id } of items) out.set(id, valPatients.has(patientOf(id)) ? 'val' : 'train');
  return out;
}

/**
 * Validation patients per grade group: `round(fraction * n)` each, except where that empties a
 * split of a dataset that can have both. Per-grade rounding alone gave 10 real Kaggle images
 * (5 patients, every grade group of 1-2) `val 0` at 0.1 and 0.2, found only when training
 * started. So with `fraction` > 0 and 2+ patients: an empty validation split takes
 * `max(1, round(fraction * total))` patients, and an empty training split gives back down to
 * `min(total - 1, ...)`, moving patients of the groups whose rounding was furthest from exact
 * (largest remainder; ties: the larger group, then the lower grade). Large datasets keep the
 * per-grade rounding unchanged.
 */
export function validationCounts(sizes: readonly number[], fraction: number): number[] {
  const take = sizes.map((n) => Math.round(fraction * n));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (!(fraction > 0) || total < 2) return take;
  const want = Math.min(total - 1, Math.max(1, Math.round(fraction * total)));
  let val = take.reduce((a, b) => a + b, 0);
  const remainder = (i: number) => fraction * sizes[i]! - take[i]!;
  const pick = (ok: (i: number) => boolean, better: (a: number, b: number) => boolean): number => {
    let best = -1;
    for (let i = 0; i < sizes.length; i++) if (ok(i) && (best < 0 || better(i, best))) best = i;
    return best;
  };
  if (val === 0) {
    while (val < want) {
      const i = pick((i) => take[i]! < sizes[i]!, (a, b) => remainder(a) > remainder(b) || (remainder(a) === remainder(b) && sizes[a]! > sizes[b]!));
      take[i]!++;
      val++;
    }
  } else if (val === total) {
    while (val > want) {
      const i = pick((i) => take[i]! > 0, (a, b) => remainder(a) < remainder(b) || (remainder(a) === remainder(b) && sizes[a]! > sizes[b]!));
      take[i]!--;
      val--;
    }
  }
  return take;
}

/**
 * A warning when a split comes out empty (null when both hold images): training needs both, and
 * finding out only when it starts costs a preprocessing run. Says what would give one.
 */
export function emptySplitWarning(items: readonly { id: string }[], splits: ReadonlyMap<string, Split>, fraction: number): string | null {
  const patients = new Set(items.map(({ id }) => patientOf(id)));
  const val = items.filter(({ id }) => splits.get(id) === 'val').length;
  const train = items.length - val;
  if (val > 0 && train > 0) return null;
  const counts = `train ${train}, val ${val} images of ${patients.size} patient${patients.size === 1 ? '' : 's'} at --val-fraction ${fraction}`;
  if (patients.size < 2) return `a split is empty (${counts}): both eyes of a patient stay in one split, so 2+ patients are needed; training needs both splits`;
  if (val === 0) return `the validation split is empty (${counts}); training needs one: --val-fraction 0.1 (any value above 0 gives at least 1 of the ${patients.size} patients) and --force`;
  return `the training split is empty (${counts}); pass a smaller --val-fraction and --force`;
}
