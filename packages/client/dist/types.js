// Generated from Rescue's /openapi.json by scripts/client-types.ts — do not edit.
// test/client/client-types.test.ts fails when this file and the served document disagree.
export {};
