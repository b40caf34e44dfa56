/** Reading archive files back (gzip NDJSON), record by record. */
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

/** The records of one archive file, in order. */
export async function* readArchive(path: string): AsyncGenerator<Record<string, unknown>> {
  const lines = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() !== '') yield JSON.parse(line) as Record<string, unknown>;
  }
}

/** The complete archive files in `dir` (optionally of one dataset), oldest name first. */
export function listArchives(dir: string, dataset?: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.ndjson.gz') && (!dataset || n.startsWith(`${dataset}-`)))
    .sort()
    .map((n) => join(dir, n));
}
