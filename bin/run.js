#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=8388608 MALLOC_TRIM_THRESHOLD_=33554432 node --initial-old-space-size=64
// The allocator settings and V8 flag (far fewer page faults and full GCs with short-lived image
// buffers): see src/node-flags.ts.
// tfjs prints a banner to stdout when it loads in Node; keep stdout clean for --json.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
