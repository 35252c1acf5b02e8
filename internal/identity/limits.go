package identity

import (
	"context"
	"fmt"
	"strconv"
)

// enforceLimits re-resolves, under the limits, the components of cc that break one, and writes
// the links it refuses to drops (reason limit). It returns the table (node, label) of the new
// labels of those components' identifiers, or "" when no component breaks a limit. See doc.go
// for the algorithm and what it guarantees.
func (r *resolver) enforceLimits(ctx context.Context, nodes, edges, cc, drops string) (string, error) {
	viol0, viol, vn, ve, prof, prof2, cnt := r.tbl("viol0"), r.tbl("viol"), r.tbl("vn"), r.tbl("ve"), r.tbl("prof"), r.tbl("prof2"), r.tbl("cnt")
	if err := r.exec(ctx, "CREATE OR REPLACE TABLE "+viol0+" AS SELECT DISTINCT label FROM (SELECT c.label, n.t, COUNT(*) AS k FROM "+cc+" c JOIN "+nodes+
		" n ON n.node = c.node GROUP BY c.label, n.t) s WHERE k > "+r.limitOf("t")); err != nil {
		return "", err
	}
	// A type that does not bridge profiles: components where two groups of higher-priority
	// identifiers (connected among themselves) are joined only through lower levels.
	for lvl, typ := range r.rules.Priority {
		if r.rules.Bridges(typ) || lvl == 0 {
			continue
		}
		known, kc := r.tbl("known"), r.tbl("kc")
		if err := r.exec(ctx, "CREATE OR REPLACE TABLE "+known+" AS SELECT e.a, e.b FROM "+edges+" e JOIN "+nodes+" n ON n.node = e.b WHERE n.t <= "+strconv.Itoa(lvl)); err != nil {
			return "", err
		}
		if _, err := r.components(ctx, "known"+strconv.Itoa(lvl+1)+"_", known, kc); err != nil {
			return "", err
		}
		if err := r.exec(ctx, "INSERT INTO "+viol0+" SELECT c.label FROM "+cc+" c JOIN "+nodes+" n ON n.node = c.node AND n.t <= "+strconv.Itoa(lvl)+
			" LEFT JOIN "+kc+" k ON k.node = c.node GROUP BY c.label HAVING COUNT(DISTINCT COALESCE(k.label, c.node)) > 1"); err != nil {
			return "", err
		}
		r.drop(ctx, "known", "kc")
	}
	if err := r.exec(ctx, "CREATE OR REPLACE TABLE "+viol+" AS SELECT DISTINCT label FROM "+viol0); err != nil {
		return "", err
	}
	nviol, err := r.count(ctx, viol)
	if err != nil || nviol == 0 {
		r.drop(ctx, "viol0", "viol")
		return "", err
	}
	if err := r.exec(ctx,
		"CREATE OR REPLACE TABLE "+vn+" AS SELECT c.node, n.t FROM "+cc+" c JOIN "+viol+" v ON v.label = c.label JOIN "+nodes+" n ON n.node = c.node",
		"CREATE OR REPLACE TABLE "+ve+" AS SELECT e.a, e.b, GREATEST(na.t, nb.t) AS lvl, e.events, e.first_seq FROM "+edges+" e JOIN "+vn+" na ON na.node = e.a JOIN "+vn+" nb ON nb.node = e.b",
		"CREATE OR REPLACE TABLE "+prof+" AS SELECT node, node AS p FROM "+vn,
	); err != nil {
		return "", err
	}
	if r.stats.Conflicted, err = r.count(ctx, vn); err != nil {
		return "", err
	}
	r.logf("limits: %d components with %d identifiers break a limit; re-resolving them by priority", nviol, r.stats.Conflicted)

	// The levels present, highest priority first.
	var levels []int64
	rows, err := r.wh.Query(ctx, "SELECT DISTINCT lvl FROM "+ve+" ORDER BY lvl")
	if err != nil {
		return "", err
	}
	for rows.Next() {
		var l int64
		if err := rows.Scan(&l); err != nil {
			rows.Close()
			return "", err
		}
		levels = append(levels, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}

	pend, pe, pp, bad, ok := r.tbl("pend"), r.tbl("pe"), r.tbl("pp"), r.tbl("bad"), r.tbl("ok")
	best, ptr, grp, grp2, gbad, mrg := r.tbl("best"), r.tbl("ptr"), r.tbl("grp"), r.tbl("grp2"), r.tbl("gbad"), r.tbl("mrg")
	rootm, rootc, kids, kfit := r.tbl("rootm"), r.tbl("rootc"), r.tbl("kids"), r.tbl("kfit")
	for _, lvl := range levels {
		typ := r.rules.Priority[lvl-1]
		counts := r.countsSQL(cnt, prof, vn, lvl)
		if err := r.exec(ctx, "CREATE OR REPLACE TABLE "+pend+" AS SELECT a, b, events, first_seq FROM "+ve+" WHERE lvl = "+strconv.FormatInt(lvl, 10), counts); err != nil {
			return "", err
		}
		for round := 1; ; round++ {
			// Pending links between different profiles, and the profile pairs they join.
			if err := r.exec(ctx,
				"CREATE OR REPLACE TABLE "+pe+" AS SELECT e.a, e.b, e.events, e.first_seq, LEAST(pa.p, pb.p) AS x, GREATEST(pa.p, pb.p) AS y FROM "+pend+" e "+
					"JOIN "+prof+" pa ON pa.node = e.a JOIN "+prof+" pb ON pb.node = e.b WHERE pa.p <> pb.p",
			); err != nil {
				return "", err
			}
			npe, err := r.count(ctx, pe)
			if err != nil {
				return "", err
			}
			if npe == 0 {
				break
			}
			if round > r.rules.MaxRounds {
				return "", fmt.Errorf("limits on %s links did not settle in %d rounds (%d links pending); raise identity.max_rounds", typ, r.rules.MaxRounds, npe)
			}
			r.stats.LimitRounds++
			if err := r.exec(ctx,
				"CREATE OR REPLACE TABLE "+pp+" AS SELECT x, y, SUM(events) AS ev, MIN(first_seq) AS fs FROM "+pe+" GROUP BY x, y",
				// A pair whose union would break a limit is never joined: profiles only grow.
				"CREATE OR REPLACE TABLE "+bad+" AS SELECT pp.x, pp.y, MAX(CASE WHEN cx.t < 0 THEN 'bridge' ELSE 'limit' END) AS reason FROM "+pp+" pp "+
					"JOIN "+cnt+" cx ON cx.p = pp.x JOIN "+cnt+" cy ON cy.p = pp.y AND cy.t = cx.t "+
					"WHERE cx.k + cy.k > "+r.limitAt("cx.t", lvl)+" GROUP BY pp.x, pp.y",
				"INSERT INTO "+drops+" SELECT pe.a, pe.b, pe.events, pe.first_seq, bad.reason FROM "+pe+" pe JOIN "+bad+" bad ON bad.x = pe.x AND bad.y = pe.y",
				"CREATE OR REPLACE TABLE "+ok+" AS SELECT pp.x, pp.y, pp.ev, pp.fs FROM "+pp+" pp LEFT JOIN "+bad+" bad ON bad.x = pp.x AND bad.y = pp.y WHERE bad.x IS NULL",
				"CREATE OR REPLACE TABLE "+pend+" AS SELECT pe.a, pe.b, pe.events, pe.first_seq FROM "+pe+" pe LEFT JOIN "+bad+" bad ON bad.x = pe.x AND bad.y = pe.y WHERE bad.x IS NULL",
			); err != nil {
				return "", err
			}
			nok, err := r.count(ctx, ok)
			if err != nil {
				return "", err
			}
			if nok == 0 {
				r.logf("limits: %s round %d: %d links refused", typ, round, npe)
				r.stats.RoundLog = append(r.stats.RoundLog, fmt.Sprintf("%s%d:%d>0", typ, round, npe))
				break
			}
			// Every profile points at its strongest compatible neighbour: most events, then
			// earliest, then smallest id. Following the pointers ends in a pair that chose
			// each other; its smaller profile is the group's root.
			if err := r.exec(ctx,
				"CREATE OR REPLACE TABLE "+best+" AS SELECT p, q, ev, fs FROM (SELECT p, q, ev, fs, ROW_NUMBER() OVER (PARTITION BY p ORDER BY ev DESC, fs, q) AS rn "+
					"FROM (SELECT x AS p, y AS q, ev, fs FROM "+ok+" UNION ALL SELECT y, x, ev, fs FROM "+ok+") u) s WHERE rn = 1",
				"CREATE OR REPLACE TABLE "+ptr+" AS SELECT b.p AS node, CASE WHEN m.p IS NOT NULL AND b.p < b.q THEN b.p ELSE b.q END AS parent, b.q AS best, b.ev, b.fs "+
					"FROM "+best+" b LEFT JOIN "+best+" m ON m.p = b.q AND m.q = b.p",
				"CREATE OR REPLACE TABLE "+grp+" AS SELECT node, parent FROM "+ptr,
			); err != nil {
				return "", err
			}
			if _, err := r.jump(ctx, grp, grp2); err != nil {
				return "", err
			}
			if err := r.exec(ctx,
				// Groups within every limit merge whole.
				"CREATE OR REPLACE TABLE "+gbad+" AS SELECT DISTINCT root FROM (SELECT g.parent AS root, c.t, SUM(c.k) AS k FROM "+grp+" g JOIN "+cnt+" c ON c.p = g.node GROUP BY g.parent, c.t) s "+
					"WHERE k > "+r.limitAt("t", lvl),
				"CREATE OR REPLACE TABLE "+mrg+" AS SELECT g.node AS p, g.parent AS np FROM "+grp+" g LEFT JOIN "+gbad+" b ON b.root = g.parent WHERE b.root IS NULL AND g.node <> g.parent",
				// In a group that would break a limit, the root pair merges (it is compatible),
				// and the profiles that point straight at it join in order of strength as long
				// as every type stays within its limit; the rest wait for the next round.
				"INSERT INTO "+mrg+" SELECT pr.best AS p, b.root AS np FROM "+gbad+" b JOIN "+ptr+" pr ON pr.node = b.root",
				"CREATE OR REPLACE TABLE "+rootm+" AS SELECT root, root AS m FROM "+gbad+" UNION ALL SELECT b.root, pr.best FROM "+gbad+" b JOIN "+ptr+" pr ON pr.node = b.root",
				"CREATE OR REPLACE TABLE "+rootc+" AS SELECT rm.root, c.t, SUM(c.k) AS k FROM "+rootm+" rm JOIN "+cnt+" c ON c.p = rm.m GROUP BY rm.root, c.t",
				"CREATE OR REPLACE TABLE "+kids+" AS SELECT c.node AS c, rm.root, c.ev, c.fs FROM "+ptr+" c JOIN "+rootm+" rm ON rm.m = c.best "+
					"LEFT JOIN "+rootm+" self ON self.m = c.node WHERE self.m IS NULL",
				"CREATE OR REPLACE TABLE "+kfit+" AS SELECT k.c, k.root, k.ev, k.fs FROM "+kids+" k LEFT JOIN (SELECT DISTINCT k.c FROM "+kids+" k JOIN "+cnt+" c ON c.p = k.c "+
					"JOIN "+rootc+" rc ON rc.root = k.root AND rc.t = c.t WHERE rc.k + c.k > "+r.limitAt("c.t", lvl)+") x ON x.c = k.c WHERE x.c IS NULL",
				"INSERT INTO "+mrg+" SELECT k.c, k.root FROM "+kfit+" k LEFT JOIN (SELECT DISTINCT s.c FROM ("+
					"SELECT k.c, k.root, c.t, SUM(c.k) OVER (PARTITION BY k.root, c.t ORDER BY k.ev DESC, k.fs, k.c ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum "+
					"FROM "+kfit+" k JOIN "+cnt+" c ON c.p = k.c) s LEFT JOIN "+rootc+" rc ON rc.root = s.root AND rc.t = s.t "+
					"WHERE COALESCE(rc.k, 0) + s.cum > "+r.limitAt("s.t", lvl)+") x ON x.c = k.c WHERE x.c IS NULL",
				"CREATE OR REPLACE TABLE "+prof2+" AS SELECT f.node, COALESCE(m.np, f.p) AS p FROM "+prof+" f LEFT JOIN "+mrg+" m ON m.p = f.p",
			); err != nil {
				return "", err
			}
			prof, prof2 = prof2, prof
			if err := r.exec(ctx, r.countsSQL(cnt, prof, vn, lvl)); err != nil {
				return "", err
			}
			nbad, err := r.count(ctx, bad)
			if err != nil {
				return "", err
			}
			nmrg, err := r.count(ctx, mrg)
			if err != nil {
				return "", err
			}
			r.logf("limits: %s round %d: %d profile pairs linked, %d refused, %d profiles merged", typ, round, nok+nbad, nbad, nmrg)
			r.stats.RoundLog = append(r.stats.RoundLog, fmt.Sprintf("%s%d:%d>%d", typ, round, npe, nmrg))
		}
	}
	vlabel := r.tbl("vlabel")
	err = r.exec(ctx, "CREATE OR REPLACE TABLE "+vlabel+" AS SELECT node, MIN(node) OVER (PARTITION BY p) AS label FROM "+prof)
	r.drop(ctx, "viol0", "viol", "ve", "prof", "prof2", "cnt", "pend", "pe", "pp", "bad", "ok", "best", "ptr", "grp", "grp2", "gbad", "mrg", "rootm", "rootc", "kids", "kfit")
	return vlabel, err
}

// countsSQL renders the statement that counts the identifiers of each type in each profile
// into cnt(p, t, k), for the links of level lvl. Where the level's type does not bridge, each
// higher-priority type t also gets a pseudo-type -t counting 1 for every profile that holds
// it, with limit 1 (see limitAt): such a link may join two profiles only when no
// higher-priority type is in both.
func (r *resolver) countsSQL(cnt, prof, vn string, lvl int64) string {
	sql := "CREATE OR REPLACE TABLE " + cnt + " AS SELECT f.p, n.t, COUNT(*) AS k FROM " + prof + " f JOIN " + vn + " n ON n.node = f.node GROUP BY f.p, n.t"
	if !r.rules.Bridges(r.rules.Priority[lvl-1]) {
		sql += " UNION ALL SELECT DISTINCT f.p, -n.t AS t, 1 AS k FROM " + prof + " f JOIN " + vn + " n ON n.node = f.node WHERE n.t < " + strconv.FormatInt(lvl, 10)
	}
	return sql
}
