/*
 * test_outbox.c — the durable outbox (outbox.h): naming by SHA-256, exact
 * batch layout, idempotent puts, listing order, moves to sent/ and dead/ with
 * their side files, name validation, locking, and injected write failures
 * (every failure leaves either no batch or a complete one, and tmp/ empty).
 */
#include "check_main.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ecorisk/outbox.h"
#include "core/sha256.h"
#include "tmp_fixture.h"

static char root[256];

/* A fresh, empty root per test (removed with the scratch directory at exit). */
static void setup(void)
{
    tf_mkdtemp(root, sizeof root, "outbox-");
}

static int count_files(const char *sub)
{
    char p[512];
    snprintf(p, sizeof p, "%s/ob/%s", root, sub);
    DIR *d = opendir(p);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static char *slurp(const char *sub, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/ob/%s/%s", root, sub, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static er_outbox *open_ob(void)
{
    char p[512];
    er_outbox *o = NULL;
    er_err err;
    snprintf(p, sizeof p, "%s/ob", root);
    ck_assert_int_eq(er_outbox_open(&o, p, &err), ER_OK);
    return o;
}

START_TEST(sha256_vectors)
{
    char hex[65];
    er_err err;
    ck_assert_int_eq(er_outbox_hash("", 0, hex, &err), ER_OK);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ck_assert_int_eq(er_outbox_hash("abc", 3, hex, &err), ER_OK);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ck_assert_int_eq(er_outbox_hash(m, strlen(m), hex, &err), ER_OK);
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    static char million[1000000];
    memset(million, 'a', sizeof million);
    ck_assert_int_eq(er_outbox_hash(million, sizeof million, hex, &err), ER_OK);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* The same digest fed in uneven pieces through the incremental interface. */
    er_sha256 *h = NULL;
    ck_assert_int_eq(er_sha256_new(&h, &err), ER_OK);
    for (size_t off = 0, step = 1; off < sizeof million; off += step, step = step * 3 % 65537 + 1)
        ck_assert_int_eq(er_sha256_update(h, million + off, off + step > sizeof million ? sizeof million - off : step,
                                          &err), ER_OK);
    ck_assert_int_eq(er_sha256_final(h, hex, &err), ER_OK);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    er_sha256_free(NULL);
}
END_TEST

START_TEST(names)
{
    ck_assert(er_outbox_valid_name("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.json"));
    ck_assert(!er_outbox_valid_name("BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.json"));
    ck_assert(!er_outbox_valid_name("../7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.json"));
    ck_assert(!er_outbox_valid_name("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.jso"));
    ck_assert(!er_outbox_valid_name("ba7816bf.json"));
    ck_assert(!er_outbox_valid_name(""));
    ck_assert(!er_outbox_valid_name(NULL));
}
END_TEST

START_TEST(put_layout_and_idempotence)
{
    er_outbox *o = open_ob();
    er_err err;
    const char *alerts[] = {"{\"alert_id\":\"a1\"}\n", "  {\"alert_id\":\"a2\",\"x\":[1,2]} "};
    const char *name = NULL;
    ck_assert_int_eq(count_files("pending"), 0);
    ck_assert_int_eq(count_files("tmp"), 0);
    ck_assert_int_eq(er_outbox_put(o, alerts, 2, &name, &err), ER_OK);
    const char *want = "[\n{\"alert_id\":\"a1\"},\n{\"alert_id\":\"a2\",\"x\":[1,2]}\n]\n";
    char hex[65], wname[70];
    ck_assert_int_eq(er_outbox_hash(want, strlen(want), hex, NULL), ER_OK);
    snprintf(wname, sizeof wname, "%s.json", hex);
    ck_assert_str_eq(name, wname);
    ck_assert_str_eq(slurp("pending", wname), want);
    ck_assert_int_eq(count_files("pending"), 1);
    ck_assert_int_eq(count_files("tmp"), 0);
    /* the same batch again: same name, still one file */
    const char *name2 = NULL;
    ck_assert_int_eq(er_outbox_put(o, alerts, 2, &name2, &err), ER_OK);
    ck_assert_str_eq(name2, wname);
    ck_assert_int_eq(count_files("pending"), 1);
    /* after delivery a re-put is a no-op */
    ck_assert_int_eq(er_outbox_mark_sent(o, wname, "{\"status\":201}\n", &err), ER_OK);
    ck_assert_int_eq(count_files("pending"), 0);
    ck_assert_int_eq(count_files("sent"), 2);
    ck_assert_int_eq(er_outbox_put(o, alerts, 2, NULL, &err), ER_OK);
    ck_assert_int_eq(count_files("pending"), 0);
    char rname[96];
    snprintf(rname, sizeof rname, "%s.receipt.json", hex);
    ck_assert_str_eq(slurp("sent", rname), "{\"status\":201}\n");
    ck_assert_str_eq(slurp("sent", wname), want);
    er_outbox_free(o);
}
END_TEST

START_TEST(put_rejects_bad_alerts)
{
    er_outbox *o = open_ob();
    er_err err;
    const char *bad[] = {"{\"alert_id\":\"a1\"}", "{\"alert_id\":"};
    ck_assert_int_eq(er_outbox_put(o, bad, 2, NULL, &err), ER_EPARSE);
    ck_assert(strstr(err.msg, "alert [1]") != NULL);
    const char *two[] = {"{\"a\":1} {\"b\":2}"};
    ck_assert_int_eq(er_outbox_put(o, two, 1, NULL, &err), ER_EPARSE);
    const char *arr[] = {"[1]"};
    ck_assert_int_eq(er_outbox_put(o, arr, 1, NULL, &err), ER_EPARSE);
    ck_assert_int_eq(er_outbox_put(o, bad, 0, NULL, &err), ER_EINVAL);
    const char *many[] = {"{\"i\":0}", "{\"i\":1}", "{\"i\":2}", "{\"i\":3}", "{bad}"};
    size_t done = 99;
    ck_assert_int_eq(er_outbox_put_all(o, many, 5, 2, &done, &err), ER_EPARSE);
    ck_assert(strstr(err.msg, "alert [4]") != NULL);
    ck_assert_uint_eq(done, 4);
    ck_assert_int_eq(count_files("pending"), 2);
    ck_assert_int_eq(count_files("tmp"), 0);
    er_outbox_free(o);
}
END_TEST

START_TEST(put_all_list_order_and_moves)
{
    er_outbox *o = open_ob();
    er_err err;
    const char *a[] = {"{\"i\":0}", "{\"i\":1}", "{\"i\":2}", "{\"i\":3}", "{\"i\":4}"};
    size_t done = 0;
    ck_assert_int_eq(er_outbox_put_all(o, a, 5, 2, &done, &err), ER_OK);
    ck_assert_uint_eq(done, 5);
    er_outbox_list l;
    ck_assert_int_eq(er_outbox_list_batches(o, ER_OUTBOX_PENDING, &l, &err), ER_OK);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_uint_eq(l.n_foreign, 0);
    /* force a known order by mtime: third, first, second */
    ck_assert_int_eq(er_outbox_set_mtime(o, l.e[2].name, 1000, &err), ER_OK);
    ck_assert_int_eq(er_outbox_set_mtime(o, l.e[0].name, 2000, &err), ER_OK);
    ck_assert_int_eq(er_outbox_set_mtime(o, l.e[1].name, 3000, &err), ER_OK);
    char n0[70], n1[70], n2[70];
    memcpy(n0, l.e[0].name, 70);
    memcpy(n1, l.e[1].name, 70);
    memcpy(n2, l.e[2].name, 70);
    er_outbox_list_free(&l);
    /* a foreign file is counted, never listed */
    char p[512];
    snprintf(p, sizeof p, "%s/ob/pending/notes.txt", root);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(er_outbox_list_batches(o, ER_OUTBOX_PENDING, &l, &err), ER_OK);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_uint_eq(l.n_foreign, 1);
    ck_assert_str_eq(l.e[0].name, n2);
    ck_assert_str_eq(l.e[1].name, n0);
    ck_assert_str_eq(l.e[2].name, n1);
    ck_assert_int_eq(l.e[0].mtime_ns, 1000);
    er_outbox_list_free(&l);

    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(er_outbox_read(o, ER_OUTBOX_PENDING, n2, &buf, &len, &err), ER_OK);
    char hex[65];
    ck_assert_int_eq(er_outbox_hash(buf, len, hex, NULL), ER_OK);
    ck_assert_int_eq(strncmp(hex, n2, 64), 0);
    free(buf);
    ck_assert_int_eq(er_outbox_read(o, ER_OUTBOX_PENDING, "../../etc/passwd", &buf, &len, &err), ER_EINVAL);
    ck_assert_ptr_null(buf);

    ck_assert_int_eq(er_outbox_mark_dead(o, n2, "{\"status\":400}\n", &err), ER_OK);
    char rname[96];
    snprintf(rname, sizeof rname, "%.64s.response.json", n2);
    ck_assert_str_eq(slurp("dead", rname), "{\"status\":400}\n");
    ck_assert_int_eq(er_outbox_mark_dead(o, n2, "{}", &err), ER_ENOTFOUND);
    ck_assert_int_eq(er_outbox_remove_pending(o, n0, &err), ER_OK);
    ck_assert_int_eq(er_outbox_remove_pending(o, n0, &err), ER_ENOTFOUND);
    ck_assert_int_eq(er_outbox_list_batches(o, ER_OUTBOX_DEAD, &l, &err), ER_OK);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.n_foreign, 0);   /* side files are not foreign */
    er_outbox_list_free(&l);
    ck_assert_int_eq(count_files("pending"), 2);   /* n1 + notes.txt */
    er_outbox_free(o);
}
END_TEST

START_TEST(lock_is_exclusive)
{
    er_outbox *a = open_ob(), *b = open_ob();
    er_err err;
    ck_assert_int_eq(er_outbox_lock(a, &err), ER_OK);
    ck_assert_int_eq(er_outbox_lock(a, &err), ER_OK);
    ck_assert_int_eq(er_outbox_lock(b, &err), ER_ELIMIT);
    ck_assert(strstr(err.msg, "another push") != NULL);
    er_outbox_free(a);
    ck_assert_int_eq(er_outbox_lock(b, &err), ER_OK);
    er_outbox_free(b);
}
END_TEST

START_TEST(open_fails_loudly)
{
    er_outbox *o = NULL;
    er_err err;
    char p[512];
    snprintf(p, sizeof p, "%s/file", root);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(er_outbox_open(&o, p, &err), ER_EIO);
    ck_assert_ptr_null(o);
    ck_assert(strstr(err.msg, p) != NULL);
    ck_assert_int_eq(er_outbox_open(&o, "", &err), ER_EINVAL);
}
END_TEST

/* Every injected write failure during a put: the put fails with ER_EIO and a
 * message, or (failure after the rename) the batch is complete in pending/;
 * never a partial batch, never a leftover tmp file. Each N in a child. */
START_TEST(injected_write_failures)
{
    const char *a[] = {"{\"alert_id\":\"x1\"}", "{\"alert_id\":\"x2\"}"};
    const char *want = "[\n{\"alert_id\":\"x1\"},\n{\"alert_id\":\"x2\"}\n]\n";
    char hex[65], wname[70];
    ck_assert_int_eq(er_outbox_hash(want, strlen(want), hex, NULL), ER_OK);
    snprintf(wname, sizeof wname, "%s.json", hex);
    int failures = 0;
    for (int n = 1; n <= 12; n++) {
        setup();
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            char v[16];
            snprintf(v, sizeof v, "%d", n);
            setenv("ECORISK_FAULT_WRITE", v, 1);
            er_outbox *o = NULL;
            er_err err;
            char p[512];
            snprintf(p, sizeof p, "%s/ob", root);
            er_status st = er_outbox_open(&o, p, &err);
            if (st == ER_OK)
                st = er_outbox_put(o, a, 2, NULL, &err);
            if (st != ER_OK && (st != ER_EIO || !strstr(err.msg, "No space left")))
                _exit(3);
            er_outbox_free(o);
            _exit(st == ER_OK ? 0 : 1);
        }
        int ws = 0;
        ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
        ck_assert(WIFEXITED(ws));
        int code = WEXITSTATUS(ws);
        ck_assert_int_ne(code, 3);
        int pending = count_files("pending");
        if (code == 0) {
            ck_assert_int_eq(pending, 1);
        } else {
            failures++;
            ck_assert(pending <= 0 || pending == 1);
        }
        if (pending == 1)
            ck_assert_str_eq(slurp("pending", wname), want);
        if (count_files("tmp") > 0)
            ck_assert_int_eq(count_files("tmp"), 0);
    }
    /* mkdir root, tmp, pending, sent, dead, create, write, fsync, rename, fsync dir */
    ck_assert_int_eq(failures, 10);
}
END_TEST

START_TEST(clean_tmp_removes_only_old_tmp_files)
{
    er_outbox *o = open_ob();
    er_err err;
    char p[512];
    const char *files[] = {"old.1.2.tmp", "new.1.3.tmp", "keep.txt"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/ob/tmp/%s", root, files[i]);
        FILE *f = fopen(p, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
    }
    snprintf(p, sizeof p, "%s/ob/tmp/old.1.2.tmp", root);
    struct timespec ts[2] = {{1000, 0}, {1000, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
    snprintf(p, sizeof p, "%s/ob/tmp/keep.txt", root);
    ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
    size_t n = 99;
    ck_assert_int_eq(er_outbox_clean_tmp(o, 86400, &n, &err), ER_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(count_files("tmp"), 2);
    snprintf(p, sizeof p, "%s/ob/tmp/new.1.3.tmp", root);
    ck_assert_int_eq(access(p, F_OK), 0);
    er_outbox_free(o);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("outbox");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, sha256_vectors);
    tcase_add_test(tc, names);
    tcase_add_test(tc, put_layout_and_idempotence);
    tcase_add_test(tc, put_rejects_bad_alerts);
    tcase_add_test(tc, put_all_list_order_and_moves);
    tcase_add_test(tc, lock_is_exclusive);
    tcase_add_test(tc, open_fails_loudly);
    tcase_add_test(tc, injected_write_failures);
    tcase_add_test(tc, clean_tmp_removes_only_old_tmp_files);
    suite_add_tcase(s, tc);
    return s;
}
