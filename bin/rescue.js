#!/usr/bin/env -S node --max-semi-space-size=4
// --max-semi-space-size=4 (MB): V8 grows the young generation to 16 MB per semi-space under a
// steady stream of requests and keeps it; capped, an api under load stays near 190 MB instead of
// 370 MB, at the same throughput relative to the database (bench/load.ts, docs/scaling.md).
// Runs the TypeScript CLI directly: Node 24 strips types natively.
import '../src/cli.ts';
