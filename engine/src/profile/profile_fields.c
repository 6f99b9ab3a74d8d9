/*
 * profile_fields.c — the declaration fields a condition may test: their
 * names and kinds (which operators they accept), their values on one
 * declaration (stored and derived), and the names of domains and lanes.
 */
#include <stdio.h>
#include <string.h>

#include "profile/profile_op.h"

static const char *const field_names[PF_COUNT] = {
    [PF_ID] = "id", [PF_FLOW] = "flow", [PF_MODE] = "mode", [PF_DECLARANT] = "declarant",
    [PF_IMPORTER] = "importer", [PF_EXPORTER] = "exporter", [PF_HS] = "hs",
    [PF_DESCRIPTION] = "description", [PF_OFFICE] = "office", [PF_UNIT] = "unit",
    [PF_CURRENCY] = "currency", [PF_CONTAINER] = "container", [PF_EXTRA] = "extra",
    [PF_ORIGIN] = "origin", [PF_EXPORT_COUNTRY] = "export_country",
    [PF_DESTINATION] = "destination", [PF_TRANSIT] = "transit", [PF_NET_KG] = "net_kg",
    [PF_GROSS_KG] = "gross_kg", [PF_QUANTITY] = "quantity", [PF_VALUE] = "value",
    [PF_VALUE_REF] = "value_ref", [PF_PACKAGES] = "packages", [PF_UNIT_VALUE] = "unit_value",
    [PF_GROSS_NET_RATIO] = "gross_net_ratio", [PF_KG_PER_PACKAGE] = "kg_per_package",
    [PF_KG_PER_UNIT] = "kg_per_unit",
};

const char *pfield_name(pfield f)
{
    return (unsigned)f < PF_COUNT ? field_names[f] : "?";
}

pfield pfield_parse(const char *name)
{
    if (strncmp(name, "extra.", 6) == 0)
        return name[6] ? PF_EXTRA : PF_COUNT;
    for (int i = 0; i < PF_COUNT; i++)
        if (i != PF_EXTRA && strcmp(field_names[i], name) == 0)
            return (pfield)i;
    return PF_COUNT;
}

unsigned pfield_kind(pfield f)
{
    if (f == PF_HS)
        return FK_HS;
    if (f == PF_FLOW || f == PF_MODE)
        return FK_ENUM;
    return PF_IS_NUMBER(f) ? FK_NUMBER : PF_IS_COUNTRY(f) ? FK_COUNTRY : PF_IS_STRING(f) ? FK_TEXT : 0;
}

const char *field_label(const cnode *n, char *buf, size_t cap)
{
    if (n->field == PF_EXTRA && n->extra) {
        snprintf(buf, cap, "extra.%s", n->extra);
        return buf;
    }
    return pfield_name((pfield)n->field);
}

const char *er_domain_str(er_domain d)
{
    static const char *const n[] = {"wildlife", "ods", "waste"};
    return (unsigned)d < ER_DOMAIN_COUNT ? n[d] : "unknown";
}

const char *er_lane_str(er_lane l)
{
    static const char *const n[] = {"green", "blue", "yellow", "red"};
    return (unsigned)l < ER_LANE_COUNT ? n[l] : "green";
}

static bool hs_in(const char *hs, const char *const *prefixes)
{
    for (; *prefixes; prefixes++)
        if (strncmp(hs, *prefixes, strlen(*prefixes)) == 0)
            return true;
    return false;
}

const char *er_cen_group(er_domain d, const char *hs)
{
    if (!hs)
        hs = "";
    switch (d) {
    case ER_DOMAIN_WILDLIFE:
        return "fauna and flora";
    case ER_DOMAIN_ODS: {
        /* HFCs (Kigali Amendment): pure HFCs and HFC mixtures */
        static const char *const hfc[] = {"290341", "290342", "290343", "290344", "290345", "290346",
                                          "290347", "290348", "290349", "382761", "382762", "382763",
                                          "382764", "382765", "382768", "382769", NULL};
        return hs_in(hs, hfc) ? "HFC" : "ODS";
    }
    case ER_DOMAIN_WASTE: {
        /* Basel Annex VIII-type streams: e-waste, batteries, clinical/solvent/municipal
         * waste, ash and slag, waste oils, CRT glass */
        static const char *const haz[] = {"8548", "8549", "3825", "2620", "2621", "271091", "271099",
                                          "700100", "8506", "8507", NULL};
        return hs_in(hs, haz) ? "hazardous waste" : "waste";
    }
    default:
        return "other";
    }
}

/* ---- values ------------------------------------------------------------------- */

bool strset_has(const strset *s, const char *v)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->v[mid], v);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

const char *pfield_str_value(const er_decl *d, pfield f, const char *extra, char *buf, size_t cap)
{
    const char *v = NULL;
    switch (f) {
    case PF_ID: v = d->id; break;
    case PF_FLOW: v = er_flow_str((er_flow)d->flow); break;
    case PF_MODE: v = er_mode_str((er_mode)d->mode); break;
    case PF_DECLARANT: v = d->declarant; break;
    case PF_IMPORTER: v = d->importer; break;
    case PF_EXPORTER: v = d->exporter; break;
    case PF_HS: v = d->hs; break;
    case PF_DESCRIPTION: v = d->description; break;
    case PF_OFFICE: v = d->office; break;
    case PF_UNIT: v = d->unit; break;
    case PF_CURRENCY: v = d->currency; break;
    case PF_CONTAINER: v = d->container; break;
    case PF_EXTRA: v = extra ? er_decl_extra(d, extra) : NULL; break;
    case PF_ORIGIN:
    case PF_EXPORT_COUNTRY:
    case PF_DESTINATION: {
        uint16_t cc = f == PF_ORIGIN ? d->origin : f == PF_EXPORT_COUNTRY ? d->export_country : d->destination;
        if (cc && cap >= 3) {
            buf[0] = ER_CC_A(cc);
            buf[1] = ER_CC_B(cc);
            buf[2] = '\0';
            v = buf;
        }
        break;
    }
    case PF_TRANSIT: {
        size_t o = 0;
        for (uint8_t i = 0; i < d->n_transit && o + 4 <= cap; i++) {
            if (i)
                buf[o++] = ';';
            buf[o++] = ER_CC_A(d->transit[i]);
            buf[o++] = ER_CC_B(d->transit[i]);
        }
        if (o && o < cap) {
            buf[o] = '\0';
            v = buf;
        }
        break;
    }
    default: break;
    }
    return v && *v ? v : NULL;
}

/* A derived value num / den: both present and den > 0. */
static bool ratio(uint32_t present, uint32_t num_bit, double num, uint32_t den_bit, double den, double *v)
{
    if (!(present & num_bit) || !(present & den_bit) || !(den > 0))
        return false;
    *v = num / den;
    return true;
}

bool pfield_num_value(const er_decl *d, pfield f, double *v)
{
    uint32_t p = d->present;
    switch (f) {
    case PF_NET_KG: *v = d->net_kg; return p & ER_P_NET_KG;
    case PF_GROSS_KG: *v = d->gross_kg; return p & ER_P_GROSS_KG;
    case PF_QUANTITY: *v = d->quantity; return p & ER_P_QUANTITY;
    case PF_VALUE: *v = d->value; return p & ER_P_VALUE;
    case PF_VALUE_REF: *v = d->value_ref; return p & ER_P_VALUE_REF;
    case PF_PACKAGES: *v = d->packages; return p & ER_P_PACKAGES;
    case PF_UNIT_VALUE: return ratio(p, ER_P_VALUE_REF, d->value_ref, ER_P_NET_KG, d->net_kg, v);
    case PF_GROSS_NET_RATIO: return ratio(p, ER_P_GROSS_KG, d->gross_kg, ER_P_NET_KG, d->net_kg, v);
    case PF_KG_PER_PACKAGE: return ratio(p, ER_P_NET_KG, d->net_kg, ER_P_PACKAGES, d->packages, v);
    case PF_KG_PER_UNIT: return ratio(p, ER_P_NET_KG, d->net_kg, ER_P_QUANTITY, d->quantity, v);
    default:
        return false;
    }
}

