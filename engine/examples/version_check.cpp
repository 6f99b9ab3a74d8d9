/*
 * version_check.cpp — libecorisk from C++: the headers are extern "C", so a
 * C++ program includes them as they are and links against the library.
 * Checks that the header's ECORISK_VERSION matches the linked library, owns
 * library objects through std::unique_ptr with their er_*_free deleters, and
 * reads a feed's accounting. Built and run by tests/integration/install.sh.
 *
 *   version_check FEED [REFERENCE_DIR]
 */
#include <ecorisk/ecorisk.h>

#include <cstdio>
#include <cstring>
#include <memory>

int main(int argc, char **argv)
{
    if (std::strcmp(er_version(), ECORISK_VERSION) != 0) {
        std::fprintf(stderr, "header %s, library %s\n", ECORISK_VERSION, er_version());
        return 1;
    }
    if (argc < 2)
        return 64;
    er_err err{};
    er_refdata *r = nullptr;
    if (er_refdata_load(&r, argc > 2 ? argv[2] : nullptr, &err) != ER_OK) {
        std::fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    std::unique_ptr<er_refdata, decltype(&er_refdata_free)> ref(r, &er_refdata_free);
    er_feed_opts o{};
    o.source = argv[1];
    o.ref = ref.get();
    er_feed *f = nullptr;
    er_batch *b = nullptr;
    if (er_feed_open(&f, &o, &err) != ER_OK) {
        std::fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    std::unique_ptr<er_feed, decltype(&er_feed_free)> feed(f, &er_feed_free);
    if (er_batch_new(&b, 256, &err) != ER_OK)
        return 1;
    std::unique_ptr<er_batch, decltype(&er_batch_free)> batch(b, &er_batch_free);
    er_status st;
    while ((st = er_feed_next(feed.get(), batch.get(), &err)) == ER_OK) {
    }
    if (st != ER_EOF) {
        std::fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const er_feed_stats *s = er_feed_stats_get(feed.get());
    std::printf("ecorisk %s: %llu read, %llu accepted, %llu quarantined\n", er_version(),
                (unsigned long long)s->rows_read, (unsigned long long)s->accepted,
                (unsigned long long)s->quarantined);
    return 0;
}
