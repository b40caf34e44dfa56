/**
 * Packages loaded on first use. An embedded monitor is paid for in the user's process, and most of
 * its memory there is the code of the packages it loads (`pg` alone is about 3 MB of heap). Packages
 * that only some setups need — `pg` without a PostgreSQL store, `nodemailer` without an email channel,
 * `yaml` without a config file — are loaded when first used, not when prodmon is imported.
 * (bench/memory.ts measures the import.)
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** `yaml`, loaded synchronously on first use (config files are read synchronously). */
export function yamlModule(): typeof import('yaml') {
  return require('yaml') as typeof import('yaml');
}

/** `nodemailer`, loaded when the first email channel is created. */
export function nodemailerModule(): typeof import('nodemailer') {
  return require('nodemailer') as typeof import('nodemailer');
}

/** `pg`, loaded when the first PostgreSQL connection is made (store, leader lock). */
export function pgModule(): typeof import('pg') {
  return require('pg') as typeof import('pg');
}
