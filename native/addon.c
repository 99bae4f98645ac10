/*
 * ferry.node: Ferry's one Node-API addon (ABI-stable, so one build loads in Node 20 and Node 24),
 * for the few system calls Node does not offer. This file registers the functions, notifySend
 * (sd-notify.c) and readCached (read-cached.c), and checks their argument counts.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include "addon.h"

int ferry_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *usage) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != n) {
    napi_throw_type_error(env, NULL, usage);
    return 0;
  }
  return 1;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  static const struct { const char *name; napi_callback fn; } functions[] = {
    { "notifySend", ferry_notify_send },
    { "readCached", ferry_read_cached },
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &fn) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, functions[i].name, fn) != napi_ok) return NULL;
  }
  return exports;
}
