/*
 * screen_feed.c — the smallest complete program on libecorisk: read a feed
 * through its mapping, evaluate the profile packs on every declaration and
 * print the ones a profile would alert on. Built and run by the test suite
 * against the installed library (tests/integration/install.sh); see
 * docs/architecture.md for the API it walks through.
 *
 *   screen_feed FEED PROFILE_DIR [REFERENCE_DIR]
 *
 * No baseline is loaded, so only the non-statistical indicators can fire.
 */
#include <ecorisk/ecorisk.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    er_err err = {{0}};
    er_refdata *ref = NULL;
    er_profileset *ps = NULL;
    er_eval *ev = NULL;
    er_feed *feed = NULL;
    er_batch *b = NULL;
    er_status st;
    unsigned long long n = 0, alerts = 0;
    int rc = 1;

    if (argc < 3) {
        fprintf(stderr, "usage: screen_feed FEED PROFILE_DIR [REFERENCE_DIR]\n");
        return 64;
    }
    if ((st = er_refdata_load(&ref, argc > 3 ? argv[3] : NULL, &err)) != ER_OK)
        goto cleanup;
    er_profile_opts popts = {ref, NULL, 0};
    const char *packs[1] = {argv[2]};
    if ((st = er_profileset_load(&ps, packs, 1, &popts, false, &err)) != ER_OK)
        goto cleanup;
    if ((st = er_eval_new(&ev, ps, &err)) != ER_OK)
        goto cleanup;
    er_feed_opts fopts = {0};
    fopts.source = argv[1];
    fopts.ref = ref;
    if ((st = er_feed_open(&feed, &fopts, &err)) != ER_OK || (st = er_batch_new(&b, 1024, &err)) != ER_OK)
        goto cleanup;
    while ((st = er_feed_next(feed, b, &err)) == ER_OK) {
        for (size_t i = 0; i < b->n; i++) {
            er_decl_score sc;
            er_score_decl(ps, NULL, ev, &b->decls[i], &sc);
            n++;
            if (sc.best < 0 || sc.results[sc.best].random)
                continue;
            const er_profile_result *r = &sc.results[sc.best];
            printf("%s %s %.0f\n", b->decls[i].id, er_profileset_info(ps, r->profile)->id, r->score);
            alerts++;
        }
    }
    if (st != ER_EOF)
        goto cleanup;
    fprintf(stderr, "screen_feed: libecorisk %s, %llu declarations, %llu alerts\n", er_version(), n, alerts);
    rc = 0;
cleanup:
    if (rc != 0)
        fprintf(stderr, "screen_feed: %s: %s\n", er_status_str(st), err.msg);
    er_batch_free(b);
    er_feed_free(feed);
    er_eval_free(ev);
    er_profileset_free(ps);
    er_refdata_free(ref);
    return rc;
}
