import * as tf from '@tensorflow/tfjs';
import { viewAs } from '../tensor-view.js';

/** A weight that can be read and overwritten: tfjs-layers' LayerVariable. */
export interface WritableWeight {
  read(): tf.Tensor;
  write(value: tf.Tensor): unknown;
}

interface Pending {
  weight: WritableWeight;
  value: tf.Tensor;
  decay: number;
}

/**
 * Batch-norm moving averages (moving ← moving − (moving − batch)·decay, tfjs-layers' formula),
 * collected during a forward pass and applied afterwards all at once: the current values and the
 * batch statistics are concatenated, the three arithmetic kernels run once, and the result is
 * split back. That is 6 kernels per step instead of 6 per batch-norm layer (InceptionV3: 564), with
 * the same numbers, element for element. Several updates of one weight (micro-batches) are applied
 * in the order they were added.
 */
export class MovingAverageBatch {
  private pending: Pending[] = [];

  /** Number of updates waiting for `flush`. */
  get size(): number {
    return this.pending.length;
  }

  /**
   * Queue one update. Takes `value` over (it is kept out of tidy scopes and disposed by `flush` or
   * `discard`), so the caller must not dispose it; not cloning saves a kernel per update.
   */
  add(weight: WritableWeight, value: tf.Tensor, decay: number): void {
    this.pending.push({ weight, value: tf.keep(value), decay });
  }

  /** Apply every queued update, in order, then free the queued statistics. */
  flush(): void {
    const queue = this.pending;
    this.pending = [];
    try {
      // Round r holds each weight's r-th update, so that repeated updates stay sequential.
      const rounds: Pending[][] = [];
      const seen = new Map<WritableWeight, number>();
      for (const p of queue) {
        const r = seen.get(p.weight) ?? 0;
        seen.set(p.weight, r + 1);
        (rounds[r] ??= []).push(p);
      }
      for (const round of rounds) {
        const byDecay = new Map<number, Pending[]>();
        for (const p of round) byDecay.set(p.decay, [...(byDecay.get(p.decay) ?? []), p]);
        for (const [decay, group] of byDecay) this.applyGroup(group, decay);
      }
    } finally {
      tf.dispose(queue.map((p) => p.value));
    }
  }

  /** Drop the queued updates without applying them. */
  discard(): void {
    tf.dispose(this.pending.map((p) => p.value));
    this.pending = [];
  }

  private applyGroup(group: Pending[], decay: number): void {
    tf.tidy(() => {
      const flat = (ts: tf.Tensor[]) => (ts.length === 1 ? viewAs<tf.Rank.R1>(ts[0]!, [ts[0]!.size]) : tf.concat(ts.map((t) => viewAs<tf.Rank.R1>(t, [t.size]))));
      const orig = flat(group.map((p) => p.weight.read()));
      const value = flat(group.map((p) => p.value));
      const updated = tf.sub(orig, tf.mul(tf.sub(orig, value), decay));
      const parts = group.length === 1 ? [updated] : tf.split(updated, group.map((p) => p.value.size));
      group.forEach((p, i) => p.weight.write(viewAs(parts[i]!, p.weight.read().shape)));
    });
  }
}
