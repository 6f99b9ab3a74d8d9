/*
 * run_output.c — the run's files: alerts.jsonl written in one pass in risk
 * order from the spooled lines (lane and over_capacity rewritten where the
 * plan changed them), whole files in the staging directory (score/runout.h),
 * and the --metrics-file written atomically for a textfile collector.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/durable.h"
#include "score/run_impl.h"

/* A top-up candidate picked for exploration: its spooled control marks become the explore slot. */
static er_status mark_explore(er_sb *line, er_err *err)
{
    static const char from[] = "\"random\":true,\"slot\":\"control\",\"selection\":\"random_topup\"";
    static const char to[] = "\"random\":false,\"slot\":\"explore\"";
    char *p = strstr(line->p, from);
    if (!p)
        return er_errf(err, ER_EINTERNAL, "spooled candidate has no selection field");
    memcpy(p, to, sizeof to - 1);
    size_t tail = line->len - (size_t)(p - line->p) - (sizeof from - 1);
    memmove(p + sizeof to - 1, p + sizeof from - 1, tail + 1);
    line->len -= (sizeof from - 1) - (sizeof to - 1);
    return ER_OK;
}

/* Copy one spooled alert line into out, rewriting slot / lane / over_capacity if planned. */
er_status emit_alert(FILE *spool, const char *whole, const alert_rec *r, er_sb *line, FILE *out, er_err *err)
{
    er_sb_reset(line);
    if (!er_sb_reserve(line, r->len))
        return er_errf(err, ER_ENOMEM, "out of memory");
    if (whole)
        memcpy(line->p, whole + r->off, r->len);
    else if (fseeko(spool, (off_t)r->off, SEEK_SET) != 0 || fread(line->p, 1, r->len, spool) != r->len)
        return er_errf(err, ER_EIO, "cannot read back spooled alert: %s", strerror(errno));
    line->len = r->len;
    line->p[line->len] = '\0';
    er_status st;
    if (r->explore && (st = mark_explore(line, err)) != ER_OK)
        return st;
    if (r->final_lane != r->lane || r->over_capacity) {
        char from[64], to[96];
        snprintf(from, sizeof from, "\"lane\":\"%s\"", er_lane_str((er_lane)r->lane));
        if (r->final_lane != r->lane)
            snprintf(to, sizeof to, "\"lane\":\"%s\",\"lane_by_score\":\"%s\"",
                     er_lane_str((er_lane)r->final_lane), er_lane_str((er_lane)r->lane));
        else
            snprintf(to, sizeof to, "%s", from);
        char *p = strstr(line->p, from);
        char *q = strstr(line->p, "\"over_capacity\":false");
        if (!p || !q || q < p)
            return er_errf(err, ER_EINTERNAL, "spooled alert has no lane field");
        fwrite(line->p, 1, (size_t)(p - line->p), out);
        fputs(to, out);
        p += strlen(from);
        /* skip an existing lane_by_score (never present in spooled lines) */
        fwrite(p, 1, (size_t)(q - p), out);
        fputs(r->over_capacity ? "\"over_capacity\":true" : "\"over_capacity\":false", out);
        q += strlen("\"over_capacity\":false");
        fwrite(q, 1, line->len - (size_t)(q - line->p), out);
    } else {
        fwrite(line->p, 1, line->len, out);
    }
    return ER_OK;
}

/* Text to path through path.tmp + rename: a collector reads the old file or the new one. */
er_status write_atomic(const char *path, const er_sb *b, er_err *err)
{
    /* core/durable.h: an exclusive tmp (never a planted symlink), fsync, rename, fsync the directory */
    char dir[4096], tmp[300];
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    const char *step = "";
    if (!*base || strlen(base) > 200 || (slash && (size_t)(slash - path) >= sizeof dir))
        return er_errf(err, ER_EINVAL, "%s: not a file path", path);
    snprintf(dir, sizeof dir, "%.*s", slash ? (slash == path ? 1 : (int)(slash - path)) : 1, slash ? path : ".");
    snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", base, (long)getpid());
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return er_errf(err, ER_ECREATE, "%s: cannot open directory: %s", dir, strerror(errno));
    unlinkat(dfd, tmp, 0);   /* a stale one of an earlier process with this pid (a link is removed, not followed) */
    int rc = er_durable_replace(dfd, tmp, dfd, base, b->p ? b->p : "", b->len, 0644, NULL, &step);
    int e = errno;
    close(dfd);
    if (rc != 0)
        return er_errf(err, strcmp(step, "create") == 0 ? ER_ECREATE : ER_EIO, "%s: %s failed: %s", path, step,
                       strerror(e));
    return ER_OK;
}

double run_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

er_status write_file(er_runout *ro, const char *name, const er_sb *b, er_err *err)
{
    FILE *f = NULL;
    er_status st = er_runout_open(ro, name, &f, err);
    if (st != ER_OK)
        return st;
    fwrite(b->p ? b->p : "", 1, b->len, f);
    return er_runout_close(ro, &f, err);
}

er_status run_open_outputs(run_state *R, er_err *err)
{
    er_status st;
    const er_run_opts *o = R->o;
    if (!R->to_stdout) {
        if ((st = er_runout_begin(&R->ro, o->out_dir, err)) != ER_OK ||
            (st = er_runout_open(&R->ro, "alerts.jsonl", &R->f_alerts, err)) != ER_OK ||
            (st = er_runout_open(&R->ro, "quarantine.jsonl", &R->f_quar, err)) != ER_OK)
            return st;
        if (o->all_scores && (st = er_runout_open(&R->ro, "scores.csv", &R->f_scores, err)) != ER_OK)
            return st;
        R->alerts_out = R->f_alerts;
        if (R->f_scores)
            fputs("declaration_id,wildlife,ods,waste,risk\n", R->f_scores);
    } else {
        R->alerts_out = stdout;
    }
    R->rc.spool = tmpfile();
    R->rc.cspool = R->planned ? tmpfile() : NULL;
    if (!R->rc.spool || (R->planned && !R->rc.cspool))
        return er_errf(err, ER_EIO, "cannot create a temporary spool file: %s", strerror(errno));
    return ER_OK;
}

/* Spooled lines are read back in ranking order, not in spool order: a spool
 * up to this size is read back whole in one call (a copy freed once the alerts
 * are out), instead of a seek and a read a line; a larger one, or one that
 * cannot be read whole, line by line. */
#define SPOOL_WHOLE_MAX ((uint64_t)64 << 20)

static char *spool_whole(FILE *f, uint64_t n)
{
    if (!f || n == 0 || n > SPOOL_WHOLE_MAX || fflush(f) != 0)
        return NULL;
    char *p = malloc((size_t)n);
    for (uint64_t got = 0; p && got < n;) {
        ssize_t k = pread(fileno(f), p + got, (size_t)(n - got), (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            free(p);
            p = NULL;
        } else {
            got += (uint64_t)k;
        }
    }
    return p;
}

er_status run_emit_alerts(run_state *R, er_err *err)
{
    er_status st = ER_OK;
    run_recs *rc = &R->rc;
    char *whole = spool_whole(rc->spool, rc->spool_off), *cwhole = spool_whole(rc->cspool, rc->cspool_off);
    for (size_t i = 0; i < rc->n_recs; i++) {
        const alert_rec *r = &rc->recs[i];
        if ((st = emit_alert(r->topup ? rc->cspool : rc->spool, r->topup ? cwhole : whole, r, &R->line,
                             R->alerts_out, err)) != ER_OK)
            goto cleanup;
        count_alert(&R->k, r);
    }
    if (R->alerts_out && ferror(R->alerts_out))
        st = er_errf(err, ER_EIO, "%s: write failed", R->to_stdout ? "stdout" : "alerts.jsonl");
cleanup:
    free(cwhole);
    free(whole);
    return st;
}

/* metrics.prom and summary.json (with the manifest) into the staging directory. */
static er_status write_reports(run_state *R, const double secs[3], er_err *err)
{
    er_status st;
    er_sb *text = &R->text, *line = &R->line;
    write_metrics(text, R->ps, &R->k, secs[2], &R->meta);
    reg_run_metrics(&R->rr, text);
    if (text->oom)
        return er_errf(err, ER_ENOMEM, "out of memory");
    if ((st = write_file(&R->ro, "metrics.prom", text, err)) != ER_OK)
        return st;
    er_sb_reset(text);
    er_sb_reset(line);
    if ((st = er_runout_manifest(&R->ro, line, err)) != ER_OK)
        return st;
    write_summary(text, R->o, R->ps, R->res->run_id, R->bl ? er_baseline_id(R->bl) : "", &R->k, secs, &R->meta,
                  line);
    reg_run_summary(&R->rr, text);
    if (text->oom || line->oom)
        return er_errf(err, ER_ENOMEM, "out of memory");
    return write_file(&R->ro, "summary.json", text, err);
}

er_status run_publish(run_state *R, er_err *err)
{
    er_status st;
    const er_run_opts *o = R->o;
    if (R->to_stdout) {
        if (fflush(stdout) != 0)
            return er_errf(err, ER_EIO, "stdout: write failed: %s", strerror(errno));
        return reg_run_commit(&R->rr, err);
    }
    double secs[3] = {R->t_loaded - R->t0, run_now_s() - R->t_loaded, run_now_s() - R->t0};
    /* Every file complete in the staging directory (hashed as it was written),
     * summary.json (with the manifest) last; then spooling (--push), then one
     * atomic publish, which first fsyncs the files. */
    if ((st = er_runout_close(&R->ro, &R->f_quar, err)) != ER_OK ||
        (st = er_runout_close(&R->ro, &R->f_scores, err)) != ER_OK ||
        (st = er_runout_close(&R->ro, &R->f_alerts, err)) != ER_OK)
        return st;
    if ((st = reg_run_commit(&R->rr, err)) != ER_OK || (st = write_reports(R, secs, err)) != ER_OK)
        return st;
    if (o->before_publish) {
        char staged[4400];
        snprintf(staged, sizeof staged, "%s/%s", R->ro.parent, R->ro.stage);
        if ((st = o->before_publish(o->publish_ud, staged, err)) != ER_OK)
            return st;
    }
    if ((st = er_runout_publish(&R->ro, err)) != ER_OK)
        return st;
    R->metrics_done = o->metrics_file == NULL;
    er_sb_reset(&R->text);
    write_metrics(&R->text, R->ps, &R->k, secs[2], &R->meta);
    reg_run_metrics(&R->rr, &R->text);
    if (o->metrics_file && (st = write_atomic(o->metrics_file, &R->text, err)) != ER_OK)
        return st;
    R->metrics_done = true;
    return ER_OK;
}

void run_close_outputs(run_state *R)
{
    if (R->o->metrics_file && !R->metrics_done) {   /* a failed run says so to the monitoring */
        er_err ignored;
        er_sb_reset(&R->text);
        write_run_status(&R->text, false, run_now_s() - R->t_start);
        if (!R->text.oom)
            write_atomic(R->o->metrics_file, &R->text, &ignored);
    }
    if (R->f_scores)
        fclose(R->f_scores);
    if (R->f_quar)
        fclose(R->f_quar);
    if (R->f_alerts)
        fclose(R->f_alerts);
    er_runout_end(&R->ro);
    if (R->rc.cspool)
        fclose(R->rc.cspool);
    if (R->rc.spool)
        fclose(R->rc.spool);
    er_sb_free(&R->text);
    er_sb_free(&R->line);
}
