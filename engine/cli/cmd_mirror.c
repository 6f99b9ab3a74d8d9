/*
 * cmd_mirror.c — `ecorisk mirror`: pair the export declarations of one
 * administration with the partner's import declarations and report the pairs
 * that disagree and the exports never imported (mirror.h, docs/registries.md).
 */
#include <stdio.h>

#include "cli.h"
#include "ecorisk/mirror.h"

static const cli_opt mirror_opts[] = {
    {"exports", 'e', CLI_LIST, NULL, "FILE", "feed holding the export declarations (flow EX; required)"},
    {"imports", 'i', CLI_LIST, NULL, "FILE", "feed holding the partner's import declarations (flow IM; required)"},
    {"out", 'o', CLI_STR, "-", "FILE", "findings as JSON Lines (default: stdout)"},
    {"mapping", 'm', CLI_STR, NULL, "MAPPING", "column mapping name or file for both (default: by format)"},
    {"reference", 0, CLI_STR, NULL, "DIR", "reference data directory (countries, currency rates)"},
    {"window", 0, CLI_INT, "30", "DAYS", "an import may be dated 2 days before to DAYS days after its export"},
    {"mass-tolerance", 0, CLI_DOUBLE, "0.10", "R", "relative net mass difference tolerated"},
    {"value-ratio", 0, CLI_DOUBLE, "1.5", "R", "ratio of the larger to the smaller value tolerated"},
};

static int mirror_main(const cli_args *a)
{
    er_mirror_opts o = {0};
    er_mirror_result r;
    er_err err = {{0}};
    o.n_exports = cli_list(a, "exports", &o.exports);
    o.n_imports = cli_list(a, "imports", &o.imports);
    if (!o.n_exports || !o.n_imports) {
        fprintf(stderr, "ecorisk mirror: --exports and --imports are required (see 'ecorisk mirror --help')\n");
        return EX_USAGE_;
    }
    long w = cli_int(a, "window");
    double mt = cli_double(a, "mass-tolerance"), vr = cli_double(a, "value-ratio");
    if (w < 0 || w > 366 || !(mt > 0 && mt < 1) || !(vr > 1)) {
        fprintf(stderr, "ecorisk mirror: --window expects 0..366, --mass-tolerance (0, 1), --value-ratio > 1\n");
        return EX_USAGE_;
    }
    o.out = cli_str(a, "out");
    o.mapping = cli_str(a, "mapping");
    o.reference = cli_str(a, "reference");
    o.window_days = (int)w;
    o.mass_tol = mt;
    o.value_ratio = vr;
    er_status st = er_mirror(&o, &r, &err);
    if (st != ER_OK) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    cli_info("mirror: %llu exports, %llu imports; matched %llu by container, %llu by HS4/countries/mass/date; "
             "%llu unmatched; %llu pairs disagree (hs_chapter %llu, waste_as_goods %llu, goods_as_waste %llu, "
             "mass %llu, value %llu, exporter %llu, importer %llu)",
             (unsigned long long)r.exports, (unsigned long long)r.imports, (unsigned long long)r.by_container,
             (unsigned long long)r.by_attributes, (unsigned long long)r.unmatched,
             (unsigned long long)r.pairs_flagged, (unsigned long long)r.by_finding[ER_MF_HS_CHAPTER],
             (unsigned long long)r.by_finding[ER_MF_WASTE_AS_GOODS],
             (unsigned long long)r.by_finding[ER_MF_GOODS_AS_WASTE], (unsigned long long)r.by_finding[ER_MF_MASS],
             (unsigned long long)r.by_finding[ER_MF_VALUE], (unsigned long long)r.by_finding[ER_MF_EXPORTER],
             (unsigned long long)r.by_finding[ER_MF_IMPORTER]);
    return r.unmatched || r.pairs_flagged ? EX_FINDINGS : EX_OK_;
}

const cli_cmd cmd_mirror = {
    "mirror",
    "pair exports with the partner's imports and report disagreements",
    "--exports FILE --imports FILE [--out FILE] [options]",
    "Mirror check on pooled or exchanged declarations: each export declaration (flow EX) is paired "
    "with one import declaration (flow IM) of the partner's feed: the first unused import with the "
    "same container number dated from 2 days before to --window days after the export, else the "
    "unused import with the same HS4, export country and destination in that window whose net mass "
    "is closest, within --mass-tolerance. Pairs whose HS chapter differs, that were exported under "
    "a Basel waste code and imported as goods (or the reverse), whose mass or value disagree, or "
    "whose exporter or importer names differ are written as JSON Lines, as are exports with no "
    "matching import. Exit status: 0 nothing to report; 1 findings; 64 bad command line; 65 "
    "invalid feed; 66 feed not found.",
    mirror_opts, CLI_NOPTS(mirror_opts), mirror_main,
    .examples = "ecorisk mirror --exports exports-NL.csv --imports imports-MY.csv --out mirror.jsonl\n"
                "  exports never imported, and pairs whose HS, waste status, mass, value or parties disagree\n"};
