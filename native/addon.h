/* The functions of ferry.node, one per source file; addon.c registers them. */
#ifndef FERRY_ADDON_H
#define FERRY_ADDON_H
#include <node_api.h>

/* Fills argv with exactly n arguments; otherwise throws a TypeError saying `usage` and answers 0. */
int ferry_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *usage);

napi_value ferry_notify_send(napi_env env, napi_callback_info info);
napi_value ferry_read_cached(napi_env env, napi_callback_info info);

#endif
