/*
 * core_stubs.c — temporary link stubs for include/manta/core.h while the
 * core worker is written. Every call fails with MT_EUNSUPPORTED.
 * Threads: any. Invariant: removed once the real implementation lands.
 */
#include "manta/core.h"

#define STUB(err) mt_error_set((err), MT_EUNSUPPORTED, "%s: not implemented yet", __func__)

mt_status mt_init_ex(const mt_init_options *opts, mt_error *err) { (void)opts; return STUB(err); }
mt_status mt_init(const mt_init_options *opts) { return mt_init_ex(opts, NULL); }
void mt_shutdown(void) {}
bool mt_is_initialized(void) { return false; }
const char *mt_session_dir(void) { return ""; }
bool mt_cluster_is_embedded(void) { return false; }
mt_ref *mt_ref_retain(mt_ref *ref) { return ref; }
void mt_ref_release(mt_ref *ref) { (void)ref; }
mt_id mt_ref_id(const mt_ref *ref) { (void)ref; return mt_id_nil(); }
mt_status mt_put(const void *d, size_t n, mt_ref **o, mt_error *err) { (void)d; (void)n; (void)o; return STUB(err); }
void mt_value_release(mt_value *v) { (void)v; }
mt_status mt_value_i64(const mt_value *v, int64_t *o, mt_error *err) { (void)v; (void)o; return STUB(err); }
mt_status mt_get(mt_ref *const *r, int n, int64_t t, mt_value *v, mt_error *err) { (void)r; (void)n; (void)t; (void)v; return STUB(err); }
mt_status mt_wait(mt_ref *const *r, int n, int k, int64_t t, bool *ro, int *no, mt_error *err) { (void)r; (void)n; (void)k; (void)t; (void)ro; (void)no; return STUB(err); }
mt_status mt_arg_i64(const mt_arg *a, int n, int i, int64_t *o, mt_error *err) { (void)a; (void)n; (void)i; (void)o; return STUB(err); }
mt_status mt_remote_register(const char *name, mt_remote_fn fn) { (void)name; (void)fn; return MT_EUNSUPPORTED; }
mt_remote_fn mt_remote_lookup(const char *name) { (void)name; return NULL; }
mt_status mt_return(mt_task_ctx *c, const void *d, size_t n, mt_error *err) { (void)c; (void)d; (void)n; return STUB(err); }
mt_status mt_return_alloc(mt_task_ctx *c, size_t n, void **p, mt_error *err) { (void)c; (void)n; (void)p; return STUB(err); }
mt_status mt_return_i64(mt_task_ctx *c, int64_t v, mt_error *err) { (void)c; (void)v; return STUB(err); }
const char *mt_task_name(const mt_task_ctx *c) { (void)c; return ""; }
int mt_task_num_returns(const mt_task_ctx *c) { (void)c; return 0; }
mt_status mt_actor_class_register(const char *n, mt_remote_fn i, mt_actor_fini_fn f) { (void)n; (void)i; (void)f; return MT_EUNSUPPORTED; }
void mt_actor_set_state(mt_task_ctx *c, void *s) { (void)c; (void)s; }
void *mt_actor_state(mt_task_ctx *c) { (void)c; return NULL; }
mt_status mt_task_submit(const char *f, const mt_arg *a, int n, const mt_task_options *o, mt_ref **r, mt_error *err) { (void)f; (void)a; (void)n; (void)o; (void)r; return STUB(err); }
mt_status mt_actor_create(const char *c, const mt_arg *a, int n, const mt_actor_options *o, mt_actor **out, mt_error *err) { (void)c; (void)a; (void)n; (void)o; (void)out; return STUB(err); }
mt_status mt_actor_call(mt_actor *ac, const char *m, const mt_arg *a, int n, int k, mt_ref **r, mt_error *err) { (void)ac; (void)m; (void)a; (void)n; (void)k; (void)r; return STUB(err); }
mt_status mt_actor_lookup(const char *n, const char *ns, mt_actor **out, mt_error *err) { (void)n; (void)ns; (void)out; return STUB(err); }
mt_status mt_actor_kill(mt_actor *a, bool nr, mt_error *err) { (void)a; (void)nr; return STUB(err); }
mt_id mt_actor_id(const mt_actor *a) { (void)a; return mt_id_nil(); }
void mt_actor_release(mt_actor *a) { (void)a; }
