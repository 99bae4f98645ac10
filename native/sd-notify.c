/*
 * notifySend() of ferry.node (addon.c): sends one datagram to a unix datagram socket (the
 * systemd notify protocol, sd_notify(3)); Node has no unix datagram sockets. A leading '@' in the
 * address means the Linux abstract namespace, sized exactly (no trailing NUL), as systemd binds it.
 * It must not keep state: each call opens, sends and closes one socket.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include "addon.h"
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, "ERR_SD_NOTIFY", msg);
  return NULL;
}

/* notifySend(address: string, payload: Buffer): undefined; throws on any error. */
napi_value ferry_notify_send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!ferry_args(env, info, 2, argv, "notifySend(address, payload) needs two arguments")) return NULL;
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  char path[sizeof sa.sun_path + 1];
  size_t pathLen = 0;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &pathLen) != napi_ok) {
    napi_throw_type_error(env, NULL, "address must be a string");
    return NULL;
  }
  if (pathLen == 0 || pathLen >= sizeof sa.sun_path) {
    napi_throw_range_error(env, NULL, "address is empty or longer than sun_path");
    return NULL;
  }
  memcpy(sa.sun_path, path, pathLen);
  socklen_t saLen;
  if (path[0] == '@') {
    sa.sun_path[0] = '\0';
    saLen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + pathLen);
  } else {
    saLen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + pathLen + 1);
  }
  void *data = NULL;
  size_t dataLen = 0;
  if (napi_get_buffer_info(env, argv[1], &data, &dataLen) != napi_ok) {
    napi_throw_type_error(env, NULL, "payload must be a Buffer");
    return NULL;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  ssize_t n;
  do {
    n = sendto(fd, data, dataLen, MSG_NOSIGNAL, (struct sockaddr *)&sa, saLen);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (n < 0) return throw_errno(env, "sendto", err);
  return NULL;
}
