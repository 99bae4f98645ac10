import assert from 'node:assert/strict';
import { Nfs3Error, nfsStatusOfErrno, statusOf, syncFailure } from '../../../src/protocols/nfs/nfs3/status.js';
import {
  NFS3ERR_ACCES, NFS3ERR_BADHANDLE, NFS3ERR_DQUOT, NFS3ERR_EXIST, NFS3ERR_FBIG, NFS3ERR_INVAL, NFS3ERR_IO, NFS3ERR_ISDIR,
  NFS3ERR_JUKEBOX, NFS3ERR_MLINK, NFS3ERR_NAMETOOLONG, NFS3ERR_NOENT, NFS3ERR_NOSPC, NFS3ERR_NOTDIR, NFS3ERR_NOTEMPTY,
  NFS3ERR_NOTSUPP, NFS3ERR_PERM, NFS3ERR_ROFS, NFS3ERR_SERVERFAULT, NFS3ERR_STALE, NFS3ERR_XDEV,
} from '../../../src/protocols/nfs/nfs3/types.js';
import { Errno, FsError } from '../../../src/util/errno.js';

describe('nfs3 status mapping', () => {
  it('maps each file-system errno to its nfsstat3', () => {
    const table: [Errno, number][] = [
      [Errno.ENOENT, NFS3ERR_NOENT], [Errno.EACCES, NFS3ERR_ACCES], [Errno.EPERM, NFS3ERR_PERM], [Errno.EEXIST, NFS3ERR_EXIST],
      [Errno.EXDEV, NFS3ERR_XDEV], [Errno.ENOTDIR, NFS3ERR_NOTDIR], [Errno.EISDIR, NFS3ERR_ISDIR], [Errno.EINVAL, NFS3ERR_INVAL],
      [Errno.EFBIG, NFS3ERR_FBIG], [Errno.ENOSPC, NFS3ERR_NOSPC], [Errno.EDQUOT, NFS3ERR_DQUOT], [Errno.EROFS, NFS3ERR_ROFS],
      [Errno.EMLINK, NFS3ERR_MLINK], [Errno.ENAMETOOLONG, NFS3ERR_NAMETOOLONG], [Errno.ENOTEMPTY, NFS3ERR_NOTEMPTY],
      [Errno.ESTALE, NFS3ERR_STALE], [Errno.ENOTSUP, NFS3ERR_NOTSUPP], [Errno.ENOSYS, NFS3ERR_NOTSUPP], [Errno.EIO, NFS3ERR_IO],
      [Errno.EAGAIN, NFS3ERR_JUKEBOX],
      [Errno.ETIMEDOUT, NFS3ERR_JUKEBOX],
    ];
    for (const [errno, status] of table) assert.equal(nfsStatusOfErrno(errno), status, Errno[errno]);
  });

  it('maps errnos without an NFS counterpart to NFS3ERR_IO', () => {
    assert.equal(nfsStatusOfErrno(Errno.EBUSY), NFS3ERR_IO);
    assert.equal(nfsStatusOfErrno(Errno.ERANGE), NFS3ERR_IO);
  });

  it('keeps the status of an Nfs3Error, maps FsError by errno and anything else to SERVERFAULT', () => {
    assert.equal(statusOf(new Nfs3Error(NFS3ERR_BADHANDLE)), NFS3ERR_BADHANDLE);
    assert.equal(new Nfs3Error(NFS3ERR_BADHANDLE, 'x').code, 'NFS3ERR_BADHANDLE');
    assert.equal(statusOf(new FsError(Errno.ENOTEMPTY, 'rmdir')), NFS3ERR_NOTEMPTY);
    assert.equal(statusOf(new TypeError('bug')), NFS3ERR_SERVERFAULT);
  });
});

describe('nfs3 sync failures', () => {
  it('turns storage failures of a flush into EIO but keeps space, quota, read-only and retry errnos', () => {
    const asStatus = (e: Errno): number => statusOf(syncFailure(new FsError(e, 'flush')));
    assert.equal(asStatus(Errno.EEXIST), NFS3ERR_IO);
    assert.equal(asStatus(Errno.ENOENT), NFS3ERR_IO);
    assert.equal(asStatus(Errno.ENOSPC), NFS3ERR_NOSPC);
    assert.equal(asStatus(Errno.EDQUOT), NFS3ERR_DQUOT);
    assert.equal(asStatus(Errno.EAGAIN), NFS3ERR_JUKEBOX);
    assert.equal(asStatus(Errno.ETIMEDOUT), NFS3ERR_JUKEBOX, 'a store or engine out of reach: the client retries the COMMIT and resends');
  });
});
