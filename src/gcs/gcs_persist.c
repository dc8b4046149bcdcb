/*
 * gcs_persist.c — SQLite persistence of the control store's tables so that a
 * restarted control store (same session folder) recovers nodes, actors and
 * KV. Records are packed protobuf blobs keyed by id; KV rows are
 * (ns, key, value). Loop thread only; every write is its own statement in
 * WAL mode with synchronous=NORMAL (durable across a process crash, which is
 * what a control store restart needs; a power loss may drop the last writes).
 * Heartbeats are not written (they are refreshed every second anyway).
 */
#include <sqlite3.h>
#include <string.h>

#include "gcs/gcs_int.h"

struct mt__gcs_persist {
    sqlite3 *db;
};

static mt_status db_error(mt__gcs_persist *p, mt_error *err, const char *what)
{
    return mt_error_set(err, MT_EIO, "control store database: %s: %s", what, sqlite3_errmsg(p->db));
}

mt_status mt__gcs_persist_open(const char *path, mt__gcs_persist **out, mt_error *err)
{
    *out = NULL;
    mt__gcs_persist *p = mt_calloc(1, sizeof *p);
    if (!p) return mt_error_set(err, MT_ENOMEM, "control store database: out of memory");
    if (sqlite3_open_v2(path, &p->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        mt_status st = mt_error_set(err, MT_EIO, "opening %s: %s", path,
                                    p->db ? sqlite3_errmsg(p->db) : "out of memory");
        sqlite3_close(p->db);
        mt_free(p);
        return st;
    }
    const char *schema =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        "CREATE TABLE IF NOT EXISTS nodes(id BLOB PRIMARY KEY, info BLOB NOT NULL);"
        "CREATE TABLE IF NOT EXISTS actors(id BLOB PRIMARY KEY, info BLOB NOT NULL);"
        "CREATE TABLE IF NOT EXISTS placement_groups(id BLOB PRIMARY KEY, info BLOB NOT NULL);"
        "CREATE TABLE IF NOT EXISTS kv(ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
        " PRIMARY KEY(ns, key));";
    if (sqlite3_exec(p->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        mt_status st = mt_error_set(err, MT_EIO, "%s: %s", path, sqlite3_errmsg(p->db));
        sqlite3_close(p->db);
        mt_free(p);
        return st;
    }
    *out = p;
    return MT_OK;
}

void mt__gcs_persist_close(mt__gcs_persist *p)
{
    if (!p) return;
    sqlite3_close(p->db);
    mt_free(p);
}

/* Prepares `sql`, binds blobs/texts per `fmt` ('b' blob, 't' text), steps once. */
static mt_status exec1(mt__gcs_persist *p, const char *sql, const char *fmt, const void **vals,
                       const size_t *lens, mt_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(p->db, sql, -1, &s, NULL) != SQLITE_OK) return db_error(p, err, sql);
    for (int i = 0; fmt[i]; i++) {
        int rc = fmt[i] == 'b'
                     ? sqlite3_bind_blob(s, i + 1, lens[i] ? vals[i] : "", (int)lens[i], SQLITE_TRANSIENT)
                     : sqlite3_bind_text(s, i + 1, vals[i], -1, SQLITE_TRANSIENT);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(s);
            return db_error(p, err, "bind");
        }
    }
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? MT_OK : db_error(p, err, "write");
}

static bool table_ok(const char *table)
{
    return !strcmp(table, "nodes") || !strcmp(table, "actors") || !strcmp(table, "placement_groups");
}

mt_status mt__gcs_persist_put(mt__gcs_persist *p, const char *table, ProtobufCBinaryData id,
                              const ProtobufCMessage *msg, mt_error *err)
{
    if (!table_ok(table)) return mt_error_set(err, MT_EINVAL, "no table '%s'", table);
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = mt_malloc(len ? len : 1);
    if (!buf) return mt_error_set(err, MT_ENOMEM, "persist: out of memory");
    protobuf_c_message_pack(msg, buf);
    char sql[96];
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO %s(id, info) VALUES(?, ?)", table);
    const void *vals[2] = {id.data, buf};
    size_t lens[2] = {id.len, len};
    mt_status st = exec1(p, sql, "bb", vals, lens, err);
    mt_free(buf);
    return st;
}

mt_status mt__gcs_persist_del(mt__gcs_persist *p, const char *table, ProtobufCBinaryData id,
                              mt_error *err)
{
    if (!table_ok(table)) return mt_error_set(err, MT_EINVAL, "no table '%s'", table);
    char sql[64];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = ?", table);
    const void *vals[1] = {id.data};
    size_t lens[1] = {id.len};
    return exec1(p, sql, "b", vals, lens, err);
}

mt_status mt__gcs_persist_kv_put(mt__gcs_persist *p, const char *ns, const char *key,
                                 ProtobufCBinaryData value, mt_error *err)
{
    const void *vals[3] = {ns, key, value.data};
    size_t lens[3] = {0, 0, value.len};
    return exec1(p, "INSERT OR REPLACE INTO kv(ns, key, value) VALUES(?, ?, ?)", "ttb", vals, lens,
                 err);
}

mt_status mt__gcs_persist_kv_del(mt__gcs_persist *p, const char *ns, const char *key,
                                 mt_error *err)
{
    const void *vals[2] = {ns, key};
    size_t lens[2] = {0, 0};
    return exec1(p, "DELETE FROM kv WHERE ns = ? AND key = ?", "tt", vals, lens, err);
}

static mt_status load_table(mt__gcs_persist *p, mt__gcs_tables *t, const char *table,
                            int64_t now_ms, mt_error *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT info FROM %s", table);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(p->db, sql, -1, &s, NULL) != SQLITE_OK) return db_error(p, err, sql);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const uint8_t *blob = sqlite3_column_blob(s, 0);
        size_t len = (size_t)sqlite3_column_bytes(s, 0);
        mt_error e;
        if (mt__gcs_tables_restore(t, table, blob, len, now_ms, &e) != MT_OK)
            MT_LOG(MT_LOG_WARN, "GCS-RESTORE", "skipping a %s row: %s", table, e.msg);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? MT_OK : db_error(p, err, "read");
}

mt_status mt__gcs_persist_each(mt__gcs_persist *p, const char *table,
                               void (*fn)(const uint8_t *blob, size_t len, void *ud), void *ud, mt_error *err)
{
    if (!table_ok(table)) return mt_error_set(err, MT_EINVAL, "no table '%s'", table);
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT info FROM %s", table);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(p->db, sql, -1, &s, NULL) != SQLITE_OK) return db_error(p, err, sql);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), ud);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? MT_OK : db_error(p, err, "read");
}

static mt_status load_kv(mt__gcs_persist *p, mt__gcs_tables *t, mt_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(p->db, "SELECT ns, key, value FROM kv", -1, &s, NULL) != SQLITE_OK)
        return db_error(p, err, "read kv");
    int rc;
    mt_status st = MT_OK;
    while (st == MT_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *ns = (const char *)sqlite3_column_text(s, 0);
        const char *key = (const char *)sqlite3_column_text(s, 1);
        const uint8_t *v = sqlite3_column_blob(s, 2);
        size_t len = (size_t)sqlite3_column_bytes(s, 2);
        if (ns && key) st = mt__gcs_tables_restore_kv(t, ns, key, v, len, err);
    }
    sqlite3_finalize(s);
    if (st != MT_OK) return st;
    return rc == SQLITE_DONE ? MT_OK : db_error(p, err, "read kv");
}

mt_status mt__gcs_persist_load(mt__gcs_persist *p, mt__gcs_tables *t, int64_t now_ms,
                               mt_error *err)
{
    MT_RETURN_NOT_OK(load_table(p, t, "nodes", now_ms, err));
    MT_RETURN_NOT_OK(load_table(p, t, "actors", now_ms, err));
    return load_kv(p, t, err);
}
