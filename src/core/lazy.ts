/**
 * Packages loaded on first use. An embedded monitor is paid for in the user's process, and most of
 * its memory there is the code of the packages it loads. Packages that only some setups need — `pg`
 * without a PostgreSQL store, `nodemailer` without an email channel, `yaml` without a config file — are
 * loaded when first used, not when prodmon is imported (docs/benchmarks.md has the cost of the import).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A function returning package `name`, loaded on its first call and kept (no lookup on later calls). */
function onFirstUse<T>(name: string): () => T {
  let mod: T | undefined;
  return () => {
    mod ??= require(name) as T;
    return mod;
  };
}

/** `yaml`, loaded synchronously on first use (config files are read synchronously). */
export const yamlModule = onFirstUse<typeof import('yaml')>('yaml');

/** `nodemailer`, loaded when the first email channel is created. */
export const nodemailerModule = onFirstUse<typeof import('nodemailer')>('nodemailer');

/** `pg`, loaded when the first PostgreSQL connection is made (store, leader lock). */
export const pgModule = onFirstUse<typeof import('pg')>('pg');

/** protobufjs's light build (no .proto parser), loaded on the first OTLP protobuf body. */
export const protobufLight = onFirstUse<typeof import('protobufjs/light.js')>('protobufjs/light.js');
