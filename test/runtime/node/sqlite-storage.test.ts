import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../../../src/runtime/node/sqlite-storage.js';

const CRASH_CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));
const text = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : new TextDecoder().decode(value);
const bytes = (value: string) => new TextEncoder().encode(value);

describe('SqliteStorage', () => {
  const dirs: string[] = [];
  const storages: SqliteStorage[] = [];
  afterEach(() => {
    for (const storage of storages.splice(0)) storage.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-sqlite-'));
    dirs.push(dir);
    return dir;
  };
  const open = (options: ConstructorParameters<typeof SqliteStorage>[0] = {}) => {
    const storage = new SqliteStorage(options);
    storages.push(storage);
    return storage;
  };

  it('keeps synced writes across close and reopen, and drops unsynced ones', async () => {
    const dir = dataDir();
    const first = new SqliteStorage({ dataDir: dir });
    const store = first.open('state');
    store.put('synced', bytes('yes'));
    store.put('doomed', bytes('old'));
    await store.sync();
    store.put('unsynced', bytes('no'));
    store.put('doomed', bytes('new'));
    first.close();

    const reopened = open({ dataDir: dir }).open('state');
    expect(text(reopened.get('synced'))).toBe('yes');
    expect(text(reopened.get('doomed'))).toBe('old');
    expect(reopened.get('unsynced')).toBeUndefined();
    expect(reopened.keys()).toEqual(['doomed', 'synced']);
  });

  it('keeps synced writes through a SIGKILL and loses the rest', async () => {
    const dir = dataDir();
    const child = spawn(process.execPath, ['--import', 'tsx', CRASH_CHILD, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const signal = await new Promise((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
    expect({ signal, output }).toEqual({ signal: 'SIGKILL', output: 'ready\n' });

    const storage = open({ dataDir: dir });
    const store = storage.open('state');
    expect(store.keys()).toEqual(['deleted', 'overwritten', 'synced-1', 'synced-2']);
    expect(text(store.get('synced-1'))).toBe('one');
    expect(text(store.get('synced-2'))).toBe('two');
    expect(text(store.get('overwritten'))).toBe('old');
    expect(text(store.get('deleted'))).toBe('here');
    expect(store.get('unsynced')).toBeUndefined();
    expect(storage.open('other').keys()).toEqual([]);
  });

  it('uses WAL mode, so the journal setting is on file', () => {
    const dir = dataDir();
    const storage = new SqliteStorage({ dataDir: dir });
    const path = storage.path;
    storage.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('refuses a second storage on a database in use', () => {
    const dir = dataDir();
    open({ dataDir: dir });
    expect(() => new SqliteStorage({ dataDir: dir })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('creates a missing data directory, and deletes a temporary one on close', () => {
    const nested = join(dataDir(), 'a', 'b');
    open({ dataDir: nested }).open('s').put('k', bytes('v'));
    expect(existsSync(join(nested, 'runtime.sqlite'))).toBe(true);

    const temporary = new SqliteStorage();
    expect(existsSync(temporary.path)).toBe(true);
    temporary.close();
    expect(existsSync(dirname(temporary.path))).toBe(false);
  });

  it('bounds key and value sizes and refuses unstorable keys, leaving the store unchanged', () => {
    const store = open({ maxKeyBytes: 8, maxValueBytes: 4 }).open('s');
    store.put('k', bytes('ok'));
    const refused = [
      () => store.put('123456789', bytes('v')),
      () => store.put('k', bytes('12345')),
      () => store.put('\uD800', bytes('v')),
      () => store.put('k', 'not bytes' as unknown as Uint8Array),
      () => store.delete('é'.repeat(5)), // 10 UTF-8 bytes
      () => store.get(42 as unknown as string),
    ];
    for (const action of refused) {
      expect(action).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(store.keys()).toEqual(['k']);
    expect(text(store.get('k'))).toBe('ok');
    store.put('12345678', bytes('1234'));
  });

  it('bounds unsynced bytes over all stores until a sync frees them', async () => {
    const storage = open({ maxUnsyncedBytes: 20 });
    const first = storage.open('first');
    const second = storage.open('second');
    first.put('a', new Uint8Array(9)); // 10 bytes
    second.put('b', new Uint8Array(9)); // 20 bytes
    expect(() => second.put('c', new Uint8Array(0))).toThrow(
      expect.objectContaining({ code: 'CAPACITY_EXCEEDED' }),
    );
    // Replacing a pending value counts only the difference.
    first.put('a', new Uint8Array(5));
    expect(first.unsyncedBytes).toBe(6);
    await first.sync();
    expect(first.unsyncedBytes).toBe(0);
    second.put('c', new Uint8Array(9));
    expect(second.keys()).toEqual(['b', 'c']);
  });

  it('bounds the number of stores', () => {
    const storage = open({ maxStores: 1 });
    storage.open('one');
    storage.open('one');
    expect(() => storage.open('two')).toThrow(
      expect.objectContaining({ code: 'CAPACITY_EXCEEDED' }),
    );
  });

  it('lists keys under a prefix that ends inside a surrogate pair', async () => {
    const store = open().open('s');
    for (const key of ['a\u{1F600}', 'a\u{1F601}x', 'a\u{1F680}', 'ab']) store.put(key, bytes('v'));
    await store.sync();
    store.put('a\u{1F602}', bytes('v'));
    expect(store.keys('a\uD83D')).toEqual([
      'a\u{1F600}',
      'a\u{1F601}x',
      'a\u{1F602}',
      'a\u{1F680}',
    ]);
    expect(store.keys('a\u{1F601}')).toEqual(['a\u{1F601}x']);
  });

  it('refuses bad bounds and file names', () => {
    expect(() => new SqliteStorage({ maxValueBytes: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => new SqliteStorage({ dataDir: dataDir(), databaseFileName: '../x' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('refuses sync once closed', async () => {
    const storage = new SqliteStorage();
    const store = storage.open('s');
    storage.close();
    await expect(store.sync()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
