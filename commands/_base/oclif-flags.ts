import { Flags, type Interfaces } from '@oclif/core';
import type { FlagRecord, FlagSpec } from '../../src/cli/flag-spec.js';

// oclif's flag objects are typed per kind; a record is data, so they are built loosely here and
// the typed view of the parsed values comes from the record (`flagValues`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFlag = any;

/** A single oclif flag with a value of type T (cast a record's flag to it where a command reads it directly). */
export type OptionFlag<T> = Interfaces.OptionFlag<T>;

function common(spec: FlagSpec, forSlurm: boolean): Record<string, unknown> {
  return {
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    ...(spec.required ? { required: true } : {}),
    ...(spec.hidden ? { hidden: true } : {}),
    ...(spec.helpGroup === undefined ? {} : { helpGroup: spec.helpGroup }),
    ...(spec.env === undefined || forSlurm ? {} : { env: spec.env }),
  };
}

/** The oclif flag for one spec. The Slurm twin keeps defaults of path flags only (see StringFlagSpec.path). */
export function oclifFlag(name: string, spec: FlagSpec, forSlurm = false): AnyFlag {
  const base = common(spec, forSlurm);
  const keepDefault = !forSlurm || (spec.kind === 'string' && spec.path !== undefined);
  const dflt = keepDefault && spec.default !== undefined ? { default: spec.default } : {};
  switch (spec.kind) {
    case 'boolean':
      return Flags.boolean({ ...base, ...dflt, ...(spec.allowNo ? { allowNo: true } : {}) } as never);
    case 'integer':
      return Flags.integer({ ...base, ...dflt, ...(spec.min === undefined ? {} : { min: spec.min }), ...(spec.max === undefined ? {} : { max: spec.max }) } as never);
    case 'number':
      return Flags.custom<number>({ ...base, ...dflt, parse: async (text: string) => spec.parse(text, `--${name}`) } as never)();
    case 'string':
      if (spec.options) return Flags.option({ ...base, ...dflt, options: spec.options } as never)();
      return Flags.string({ ...base, ...dflt } as never);
  }
}

/** oclif flags for a command from its record; `forSlurm` for its `retina slurm` twin. */
export function oclifFlags(record: FlagRecord, opts: { forSlurm?: boolean; only?: readonly string[] } = {}): Record<string, AnyFlag> {
  const out: Record<string, AnyFlag> = {};
  for (const [name, spec] of Object.entries(record)) {
    if (opts.only && !opts.only.includes(name)) continue;
    if (opts.forSlurm && spec.slurm === 'skip') continue;
    out[name] = oclifFlag(name, spec, opts.forSlurm);
  }
  return out;
}
