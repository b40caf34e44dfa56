/** Both store implementations, opened fresh and migrated, for contract tests. */
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';
import { pgSchema, tempDir } from './services.js';

/** A store kind under test. */
export interface StoreFixture {
  name: 'sqlite' | 'postgres';
  /** Opens a fresh, migrated, empty store. */
  open(): Promise<{ store: Store; cleanup: () => Promise<void> }>;
}

export const STORE_FIXTURES: StoreFixture[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = tempDir();
      const store = await openStore({ driver: 'sqlite', path: join(dir.path, 'prodmon.db') });
      await store.migrate(Date.now());
      return {
        store,
        async cleanup() {
          await store.close();
          dir.cleanup();
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const s = pgSchema();
      const store = await openStore({ driver: 'postgres', url: s.url, schema: s.schema, poolSize: 4 });
      await store.migrate(Date.now());
      return {
        store,
        async cleanup() {
          await store.close();
          await s.drop();
        },
      };
    },
  },
];
