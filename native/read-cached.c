/*
 * readCached() of ferry.node (addon.c): a positional read that only copies what the page cache
 * already holds (preadv2 with RWF_NOWAIT, Linux >= 4.14). It never waits for the disk: when the
 * first byte is not cached it answers -1 at once, and the caller reads through the thread pool as
 * before. So a read of hot data costs one short system call on the event loop instead of a trip to
 * libuv's thread pool (a queue, a thread wake-up and a completion wake-up). Keeps no state.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include "addon.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

/* Throws an Error with errno = the (positive) errno; cached-read.ts turns it into a Node fs error. */
static napi_value throw_errno(napi_env env, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "preadv2: %s", strerror(err));
  napi_value msgValue, errValue, errnoValue;
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &msgValue) != napi_ok ||
      napi_create_error(env, NULL, msgValue, &errValue) != napi_ok ||
      napi_create_int32(env, err, &errnoValue) != napi_ok ||
      napi_set_named_property(env, errValue, "errno", errnoValue) != napi_ok) {
    return NULL;
  }
  napi_throw(env, errValue);
  return NULL;
}

static int get_int64(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

/*
 * readCached(fd, buffer, offset, length, position): bytes copied into buffer[offset..] (0 at end of
 * file), or -1 when the data is not in the page cache (EAGAIN) or the file system cannot tell
 * (EOPNOTSUPP): read it the ordinary way. Throws an Error whose errno is the errno of any other
 * failure.
 */
napi_value ferry_read_cached(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!ferry_args(env, info, 5, argv, "readCached(fd, buffer, offset, length, position) needs five arguments")) return NULL;
  int64_t fd, offset, length, position;
  if (!get_int64(env, argv[0], &fd) || !get_int64(env, argv[2], &offset) || !get_int64(env, argv[3], &length) ||
      !get_int64(env, argv[4], &position)) {
    napi_throw_type_error(env, NULL, "fd, offset, length and position must be numbers");
    return NULL;
  }
  void *data = NULL;
  size_t size = 0;
  if (napi_get_buffer_info(env, argv[1], &data, &size) != napi_ok) {
    napi_throw_type_error(env, NULL, "buffer must be a Buffer");
    return NULL;
  }
  if (fd < 0 || fd > INT32_MAX || offset < 0 || length < 0 || position < 0 || (uint64_t)offset > size ||
      (uint64_t)length > size - (uint64_t)offset) {
    napi_throw_range_error(env, NULL, "fd, offset, length or position out of range");
    return NULL;
  }
  struct iovec iov = { (char *)data + offset, (size_t)length };
  ssize_t n;
  do {
    n = preadv2((int)fd, &iov, 1, (off_t)position, RWF_NOWAIT);
  } while (n < 0 && errno == EINTR);
  napi_value result;
  if (n < 0) {
    if (errno != EAGAIN && errno != EOPNOTSUPP && errno != ENOSYS) return throw_errno(env, errno);
    n = -1;
  }
  if (napi_create_int64(env, (int64_t)n, &result) != napi_ok) return NULL;
  return result;
}
