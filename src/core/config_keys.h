/*
 * core/config_keys.h — typed, compile-checked access to the configuration
 * table (config_table.h) for Manta's own code: MT_CFG_INT64(heartbeat_ms)
 * names the tunable as a token, so a typo fails to compile; a read of the
 * wrong type aborts at once (a programmer error). The string functions of
 * manta/base.h remain for users and tools.
 */
#ifndef MANTA_CORE_CONFIG_KEYS_H
#define MANTA_CORE_CONFIG_KEYS_H

#include "manta/base.h"

enum mt__config_key {
#define MT_CONFIG(type, name, def, doc) MT__CFG_##name,
#include "core/config_table.h"
#undef MT_CONFIG
    MT__CFG_COUNT
};

int64_t mt__config_int64_at(enum mt__config_key key);
double mt__config_double_at(enum mt__config_key key);
bool mt__config_bool_at(enum mt__config_key key);
const char *mt__config_string_at(enum mt__config_key key);

#define MT_CFG_INT64(name) mt__config_int64_at(MT__CFG_##name)
#define MT_CFG_DOUBLE(name) mt__config_double_at(MT__CFG_##name)
#define MT_CFG_BOOL(name) mt__config_bool_at(MT__CFG_##name)
#define MT_CFG_STRING(name) mt__config_string_at(MT__CFG_##name)

#endif
