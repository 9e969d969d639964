#!/usr/bin/env -S node --initial-old-space-size=64
// The V8 flag (far fewer full GCs with short-lived image buffers): see src/node-flags.ts.
// tfjs prints a banner to stdout when it loads in Node; keep stdout clean for --json.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
