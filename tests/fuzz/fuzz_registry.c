/*
 * fuzz_registry.c — libFuzzer harness for the document registries
 * (er_registry_load: the CSV reader, column binding, numbers, dates,
 * countries, appendices, transit lists, substances; docs/registries.md). The
 * first byte chooses the file (permits, licences or consents), the rest is
 * its content. A registry that loads is then used by the check pass on a few
 * declarations citing numbers the file may hold, with an in-memory ledger:
 * every state must be a known bit and every evidence a string.
 */
#include "ecorisk/registry.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const files[] = {"cites-permits.csv", "ods-licences.csv", "basel-consents.csv"};

static void check(const er_registry *r)
{
    er_err err = {{0}};
    er_batch *b = NULL;
    er_ledger *l = NULL;
    FZ_CHECK(er_batch_new(&b, 8, &err) == ER_OK);
    FZ_CHECK(er_ledger_open(&l, NULL, "fuzz", &err) == ER_OK);
    static const char *const refs[] = {"P1;P2", "1|A| B ", "L1", "C1;C1;C1"};
    for (size_t i = 0; i < 4; i++) {
        er_decl *d = er_batch_push(b);
        FZ_CHECK(d);
        d->id = refs[i];
        d->date = 20454 + (int32_t)i * 200;
        snprintf(d->hs, sizeof d->hs, "%s", i == 1 ? "290371" : "030192");
        d->hs_len = 6;
        d->flow = (uint8_t)(i % 3 + 1);
        d->export_country = ER_CC('F', 'R');
        d->destination = ER_CC('M', 'Y');
        d->transit[0] = ER_CC('B', 'E');
        d->n_transit = i & 1;
        d->importer = "Imp";
        d->exporter = "Exp";
        d->permits = d->licences = d->consents = refs[i];
        d->net_kg = 10.0 * (double)i;
        d->quantity = 3;
        d->present = i == 3 ? ER_P_QUANTITY : ER_P_NET_KG | ER_P_QUANTITY;
    }
    FZ_CHECK(er_ledger_check_batch(l, r, b, &err) == ER_OK);
    for (size_t i = 0; i < b->n; i++) {
        const er_doccheck *c = b->decls[i].docs;
        FZ_CHECK(c);
        for (int k = 0; k < ER_DOC_KINDS; k++) {
            FZ_CHECK(c->state[k] < (1u << ER_DS_COUNT));
            FZ_CHECK(!c->evidence[k] || strlen(c->evidence[k]) < 4096);
        }
        FZ_CHECK(c->odp_t >= 0 && c->co2e_t >= 0);
    }
    er_ledger_free(l);
    er_batch_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *name = files[data[0] % 3];
    const char *path = fz_write(name, data + 1, size - 1);
    char dir[320];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    er_registry *r = NULL;
    er_err err = {{0}};
    if (er_registry_load(&r, dir, ECORISK_SOURCE_DIR "/feeds/reference", &err) == ER_OK) {
        FZ_CHECK(r);
        check(r);
    } else {
        FZ_CHECK(!r && err.msg[0]);
    }
    er_registry_free(r);
    unlink(path);
    return 0;
}
