// Issue 11, item 6: the profile command reports level 0 with the server's slowms and sampleRate and
// changes them; levels 1 and 2 (writing system.profile) are refused rather than ignored.
import { describe, expect, test } from 'vitest';
import { expectExactError, useDriver } from '../helpers/driver.js';

const t = useDriver('prof', { slowms: 150 });

describe('profile', () => {
  test('-1 reads; slowms and sampleRate change server-wide, the reply showing the old values', async () => {
    expect(await t.db.command({ profile: -1 })).toEqual({ was: 0, slowms: 150, sampleRate: 1, ok: 1 });
    expect(await t.db.command({ profile: 0, slowms: 20, sampleRate: 0.5 })).toEqual({ was: 0, slowms: 150, sampleRate: 1, ok: 1 });
    expect(await t.client.db('other').command({ profile: -1 })).toEqual({ was: 0, slowms: 20, sampleRate: 0.5, ok: 1 });
    await expectExactError(t.db.command({ profile: 0, sampleRate: 2 }), 2, 'BadValue', "'sampleRate' must be between 0.0 and 1.0 inclusive");
  });

  test('levels 1 and 2 are refused with 115', async () => {
    await expectExactError(t.db.command({ profile: 2 }), 115, 'CommandNotSupported', 'pocketmongo does not support profiling level 2 (writing operations to prof.system.profile)');
  });
});
