# gen_feed.awk — a deterministic synthetic canonical-CSV feed mixing ordinary
# trade with patterns the shipped profiles look for (reptiles, ivory, eels,
# rosewood, HCFC/HFC gases, plastic and e-waste, under-valued lines, transit
# hubs). Used by bench/run_scaling.sh and tests/integration/scale_out.sh.
#   gawk -v n=ROWS -v seed=S -v d0=FIRST_DAY -v days=DAYS -v pfx=ID_PREFIX -f bench/gen_feed.awk
# FIRST_DAY is in days since 1970-01-01; ids are PFX + a 7-digit number.
BEGIN {
    srand(seed)
    print "id,date,flow,declarant,importer,exporter,hs,description,origin,export_country,destination,transit,mode,office,net_kg,gross_kg,quantity,unit,value,currency,packages,container"
    split("010690 050710 030192 440349 290372 382711 391590 854911 847130 620342 851712 940360", hs, " ")
    split("live reptiles|carved ivory ornaments|eel fry live|rosewood logs kosso|R-22 refrigerant gas|HFC blend R-404A|plastic scrap bales mixed|waste batteries|used laptops untested|cotton trousers|mobile phones|wooden furniture", desc, "|")
    split("NG CM TG MG CN IN DE FR US VN MY HK AE TR BR", cc, " ")
    split("SEA AIR ROAD POST", md, " ")
    for (i = 1; i <= n; i++) {
        k = 1 + int(rand() * 12); o = cc[1 + int(rand() * 15)]; d = cc[1 + int(rand() * 15)]
        kg = int(1 + rand() * 2000); val = int(kg * (1 + rand() * 40) * (rand() < 0.05 ? 0.01 : 1))
        day = d0 + int(rand() * days)
        printf "%s%07d,%s,IM,DEC%d,IMP%05d,EXP%03d,%s,%s,%s,%s,%s,%s,%s,OFF%d,%d,%d,%d,KGM,%d,USD,%d,\n",
            pfx, i, strftime("%Y-%m-%d", day * 86400, 1), int(rand() * 50), int(rand() * 30000), int(rand() * 400),
            hs[k], desc[k], o, o, d, (rand() < 0.2 ? "AE;TR" : ""), md[1 + int(rand() * 4)], int(rand() * 5),
            kg, kg + int(rand() * 50), 1 + int(rand() * 20), val, 1 + int(rand() * 30)
    }
}
