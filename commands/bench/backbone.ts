import { Flags } from '@oclif/core';
import { RetinaCommand } from '../_base/retina-command.js';
import type { BackboneBenchResult } from '../../src/bench/backbone-bench.js';

export default class BenchBackbone extends RetinaCommand<BackboneBenchResult> {
  static override summary = 'Measure the frozen backbone\'s forward pass on every available backend: per thread and on all usable CPUs.';
  static override description = 'Backends that do not start here are listed as skipped with the reason (--log-level debug prints it too). Rows: per-thread (one instance, one thread), workers (one single-threaded instance per CPU), intra-op (one ONNX Runtime session with a thread per CPU).';
  static override examples = [
    '<%= config.bin %> bench backbone',
    '<%= config.bin %> bench backbone --backends onnxruntime,wasm --seconds 20 --json',
    '<%= config.bin %> bench backbone --model small-cnn --size 128',
  ];

  static override flags = {
    model: Flags.option({ options: ['inception-v3', 'small-cnn'] as const, default: 'inception-v3' as const, summary: 'Backbone.' })(),
    backends: Flags.string({ summary: 'Comma-separated backends [default: onnxruntime,wasm,cpu,tensorflow,webgpu, those that start].' }),
    batch: Flags.integer({ min: 1, default: 8, summary: 'Images per forward pass.' }),
    seconds: Flags.integer({ min: 1, default: 10, summary: 'Seconds each measurement runs (whole batches, after a warm-up batch).' }),
    threads: Flags.integer({ min: 1, summary: 'CPUs to use for the all-CPU rows [default: usable CPUs].' }),
    size: Flags.integer({ min: 16, default: 64, summary: 'small-cnn input side.' }),
  };

  public async run(): Promise<BackboneBenchResult> {
    const { flags } = await this.parse(BenchBackbone);
    const { benchBackbone } = await import('../../src/bench/backbone-bench.js');
    const r = await benchBackbone({
      model: flags.model, batch: flags.batch, seconds: flags.seconds, threads: flags.threads, size: flags.size, logger: this.logger,
      ...(flags.backends ? { backends: flags.backends.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    });
    if (!this.jsonEnabled()) {
      this.log(`${r.model} ${r.inputShape.join('x')}, batch ${r.batch}, ${r.cpus} CPUs (load average ${r.machine.loadavg.map((l) => l.toFixed(1)).join(' ')})`);
      this.log('| backend | mode | threads | images/s | ms/image/thread |');
      this.log('|---|---|---|---|---|');
      for (const x of r.results) this.log(`| ${x.backend} | ${x.mode} | ${x.threads} | ${x.imagesPerSecond.toFixed(2)} | ${x.msPerImagePerThread.toFixed(1)} |`);
      for (const s of r.skipped) this.log(`skipped ${s.backend}: ${s.reason}`);
    }
    return r;
  }
}
