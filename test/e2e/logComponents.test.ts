// Issue 11, item 6: the logComponentVerbosity parameter, as mongosh's db.setLogLevel and
// db.getLogComponents use it.
import { describe, expect, test } from 'vitest';
import { expectExactError, useDriver } from '../helpers/driver.js';
import { runMongosh } from '../helpers/server.js';

const t = useDriver('logs');

describe('logComponentVerbosity', () => {
  test('getParameter shows every component, -1 where it follows its parent; setParameter sets and clears levels', async () => {
    const admin = t.client.db('admin');
    const before = (await admin.command({ getParameter: 1, logComponentVerbosity: 1 })).logComponentVerbosity;
    expect(before.verbosity).toBe(0);
    expect(before.query).toEqual({ verbosity: -1 });
    expect(before.storage.wt.wtCheckpoint).toEqual({ verbosity: -1 });
    expect(Object.keys(before.network)).toEqual(['verbosity', 'asio', 'bridge', 'connectionPool']);
    const set = await admin.command({ setParameter: 1, logComponentVerbosity: { verbosity: 1, query: { verbosity: 2 }, storage: { journal: 3 } } });
    expect(set.was).toEqual(before);
    const after = (await admin.command({ getParameter: 1, logComponentVerbosity: 1 })).logComponentVerbosity;
    expect([after.verbosity, after.query.verbosity, after.storage.verbosity, after.storage.journal.verbosity]).toEqual([1, 2, -1, 3]);
    // The default component's verbosity is logLevel.
    expect((await admin.command({ getParameter: 1, logLevel: 1 })).logLevel).toBe(1);
    await admin.command({ setParameter: 1, logComponentVerbosity: { verbosity: 0, query: { verbosity: -1 }, storage: { journal: -1 } } });
    expect((await admin.command({ getParameter: 1, logComponentVerbosity: 1 })).logComponentVerbosity).toEqual(before);
    await expectExactError(admin.command({ setParameter: 1, logComponentVerbosity: { nosuch: 1 } }), 2, 'BadValue', 'Invalid component name logComponentVerbosity.nosuch');
  });

  test('mongosh: db.setLogLevel(2, "query") then db.getLogComponents()', async () => {
    const result = await runMongosh(`${t.server.uri}admin`, 'db.setLogLevel(2, "query"); print(JSON.stringify(db.getLogComponents().query))');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('{"verbosity":2}');
  });
});
