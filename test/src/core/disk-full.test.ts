import { describe, expect, it } from 'vitest';
import { diskFullFromErrno, isDiskFull, mapDiskFull } from '../../../src/core/disk-full.js';
import { rejection } from '../../helpers/errors.js';

const enospc = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: 'ENOSPC', syscall: 'write', path: '/data/x.npy' });

describe('disk full (#16 item 8)', () => {
  it('a raw ENOSPC becomes DISK_FULL (exit 10) naming the path, with "free space, then rerun"', () => {
    const e = diskFullFromErrno(enospc)!;
    expect(e.code).toBe('DISK_FULL');
    expect(e.exitCode).toBe(10);
    expect(e.location.file).toBe('/data/x.npy');
    expect(e.hint).toMatch(/^Free space .* then rerun/);
    expect(diskFullFromErrno(new Error('other'))).toBeUndefined();
  });

  it('isDiskFull: ENOSPC/EDQUOT always; EIO (lmdb on a full disk) only when the file system is nearly full', async () => {
    expect(await isDiskFull(enospc, '/tmp')).toBe(true);
    expect(await isDiskFull(Object.assign(new Error('quota'), { code: 'EDQUOT' }), '/tmp')).toBe(true);
    // /tmp has far more than 4 MiB free here, so an I/O error is not put down to a full disk
    expect(await isDiskFull(new Error('Input/output error'), '/tmp')).toBe(false);
    expect(await isDiskFull(new Error('EACCES'), '/tmp')).toBe(false);
    const err = await rejection(mapDiskFull('/data', 'shard 0/1', () => Promise.reject(enospc), { shard: 0 }));
    expect(err.message).toBe('No space left on the device holding /data while writing shard 0/1');
    expect(err.location).toMatchObject({ shard: 0, file: '/data' });
  });
});
