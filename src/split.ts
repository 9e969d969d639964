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
 * first `round(fraction * n)` go to validation. Both eyes of a patient always land in the same
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
  const valPatients = new Set<string>();
  for (const patients of byGrade.values()) {
    const keyed = patients.map((p) => ({ p, k: hashString(`${seed >>> 0}:${p}`) }));
    keyed.sort((a, b) => a.k - b.k || (a.p < b.p ? -1 : a.p > b.p ? 1 : 0));
    const take = Math.round(fraction * keyed.length);
    for (let i = 0; i < take; i++) valPatients.add(keyed[i]!.p);
  }
  const out = new Map<string, Split>();
  for (const { id } of items) out.set(id, valPatients.has(patientOf(id)) ? 'val' : 'train');
  return out;
}
