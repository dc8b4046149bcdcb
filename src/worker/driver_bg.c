/*
 * driver_bg.c — the driver's housekeeping thread: while the application is
 * not inside a runtime call, it keeps the driver's sockets moving so that an
 * idle driver does not sit on worker leases (Ray returns a lease once its
 * submitter has no more work for it). Every tick it takes the driver lock
 * and runs one non-blocking pump: results already sent are read, lease
 * grants and WORKER_DIED notices on the node connection are handled, dead
 * workers' tasks are retried, and task leases idle for LEASE_IDLE_NS are
 * returned to the node.
 *
 * Threads: one thread per initialised driver, started by mt_init and joined
 * by mt_shutdown. It holds mt__drv.lock except while it waits on
 * mt__drv.bg_cv (pthread_cond_timedwait releases the lock), so it never runs
 * concurrently with a public call. Invariant: it ticks (every BG_TICK_MS)
 * only while the driver holds a task lease, has a lease request in flight or
 * tasks waiting for their arguments (then every WAITING_TICK_MS); with
 * none, but task state changes not yet reported, it wakes once when their
 * report is due (task_events.c); otherwise it waits untimed until
 * mt__drv_bg_kick — an idle driver costs no wake-ups.
 */
#include <errno.h>
#include <signal.h>
#include <time.h>

#include "worker/worker_int.h"

#define BG_TICK_MS 50
#define WAITING_TICK_MS 2

static bool has_work(void)
{
    if (mt__drv.lease_req_id || mt__drv.retry_soon || mt__drv.dying || mt__drv.waiting || mt__drv.starting || mt__drv.restarting ||
        mt__drv.nputs)
        return true;
    for (mt__shape *s = mt__drv.shapes; s; s = s->next)
        if (s->leases || s->pending.n) return true;
    return false;
}

static void *bg_main(void *arg)
{
    (void)arg;
    mt__driver *d = &mt__drv;
    pthread_mutex_lock(&d->lock);
    while (!d->bg_stop) {
        bool work = has_work(), events = d->ntev || d->tev_dropped;
        if (!work && !events) {
            d->bg_parked = true;
            pthread_cond_wait(&d->bg_cv, &d->lock);
            d->bg_parked = false;
            continue;
        }
        struct timespec ts;
        if (work) {
            clock_gettime(CLOCK_MONOTONIC, &ts);
            /* Tasks waiting for arguments start soon after those finish. */
            ts.tv_nsec += (d->waiting || d->starting ? WAITING_TICK_MS : BG_TICK_MS) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
        } else { /* only task state changes left: sleep until their report is due */
            ts.tv_sec = d->tev_next_ns / 1000000000;
            ts.tv_nsec = d->tev_next_ns % 1000000000;
        }
        d->bg_parked = !work; /* new work wakes it */
        int rc = pthread_cond_timedwait(&d->bg_cv, &d->lock, &ts);
        d->bg_parked = false;
        if (rc != ETIMEDOUT || d->bg_stop || !d->inited) continue;
        /* the work may have gone meanwhile (a call pumped it): then nothing to do */
        if (has_work()) mt__drv_pump(0, NULL);
        else mt__tev_flush(false);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

void mt__drv_bg_kick(void)
{
    if (mt__drv.bg_parked) pthread_cond_signal(&mt__drv.bg_cv);
}

mt_status mt__drv_bg_start(mt_error *err)
{
    mt__driver *d = &mt__drv;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&d->bg_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) return mt_error_set_errno(err, MT_EINTERNAL, rc, "driver thread condition");
    d->bg_stop = false;
    d->bg_parked = false;
    /* The thread takes no signals meant for the application. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&d->bg_thread, NULL, bg_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&d->bg_cv);
        return mt_error_set_errno(err, MT_EINTERNAL, rc, "starting the driver thread");
    }
    d->bg_running = true;
    return MT_OK;
}

void mt__drv_bg_stop(void)
{
    mt__driver *d = &mt__drv;
    if (!d->bg_running) return;
    d->bg_running = false; /* a concurrent mt_shutdown does not join twice */
    d->bg_stop = true;
    pthread_t t = d->bg_thread;
    pthread_cond_signal(&d->bg_cv);
    pthread_mutex_unlock(&d->lock);
    pthread_join(t, NULL);
    pthread_mutex_lock(&d->lock);
    pthread_cond_destroy(&d->bg_cv);
}
