// Package identity resolves identities: it turns events that carry identifiers (user ids,
// emails, phones, device ids, anonymous ids) into profiles, entirely in SQL inside the
// warehouse. It provides the `identity` materialization (registered with the run package) and
// Explain, behind `cdp identity explain`. It owns the identifier rules (normalize, validate,
// block, limit, priority) and the SQL that resolves the graph; it knows nothing of audiences,
// syncs or destinations.
//
// # The model
//
// A model with materialized='identity' selects observations: one row per event, with an event
// id, a timestamp and identifier columns, e.g.
//
//	select message_id, timestamp, anonymous_id, user_id, email, phone, device_id from stg_events
//
// Its rules come from the model's config (`config: {identity: {...}}` in its .yml, or
// `{{ config(identity={...}) }}`); every key is optional:
//
//	event_id: message_id      # column (or SQL expression) naming the event
//	timestamp: timestamp      # column (or SQL expression) of the event's time
//	default_country: US       # phone numbers written without a country code are read as this country's
//	identifiers:              # default: these five, each one whose column the observations have
//	  - {type: user_id, column: user_id, limit: 1}
//	  - {type: email, column: email, normalize: email, limit: 5}
//	  - {type: phone, column: phone, normalize: phone, limit: 3}
//	  - {type: device_id, column: device_id, limit: 10}
//	  - {type: anonymous_id, column: anonymous_id, limit: 100, bridge: false}
//	  # custom: {type: crm_id, column: "upper(crm_id)", normalize: trim, limit: 1}
//	priority: [user_id, email, phone, device_id, anonymous_id]  # custom types after, unless listed
//	blocklist: {values: [...], patterns: ["^guest-.*$"], defaults: true}
//	max_group_size: 10000
//	max_rounds: 40
//
// column is a column name or any SQL expression over the observations. Several rules may share
// a type (anonymous_id and an alias call's previous_id); they share its limit, priority and
// bridge setting. bridge: false (the default for anonymous_id, true for the others) means an
// identifier of the type may join two profiles only when no higher-priority type is in both:
// a browser where one person logged in and later typed their email joins the two, a family
// laptop where mother and son each left their email does not (it stays with the one it was
// seen with most; the other link is refused with reason bridge). A browser or an app install
// is a device, and devices are shared.
//
// normalize is email (trimmed of any whitespace, lower-cased, must look like an address), phone
// (E.164, see phoneSelect; rules may set their own country), trim (the default), lower or none;
// a value that is empty after trimming is no identifier. limit 0 means no limit; custom types
// have none unless given. Values and patterns of the blocklist are compared with the
// lower-cased value; the defaults (DefaultBlockedValues, DefaultBlockedPatterns) are in the
// spirit of Segment's: all zeros and dashes (0, 00000000-0000-0000-0000-000000000000), -1,
// null, undefined, none, nil, n/a, anonymous, unknown, test, guest and placeholder emails such
// as test@test.com, anything @example.com or noemail@...; `defaults: false` drops them.
//
// A build writes, in the model's schema, and publishes in one commit (run.Build.Commit) with the
// model's state:
//
//	<m>                identifier_type, identifier, profile_id, first_seen_at, last_seen_at
//	<m>_edges          profile_id, identifier_type, identifier, other_type, other_identifier,
//	                   event_id (the first event that made the link), first_seen_at, events
//	<m>_events         event_id, profile_id: the profile of each event's highest-priority
//	                   identifier, so downstream models need not re-normalize identifiers
//	<m>_dropped_links  run_id, identifier_type, identifier, other_type, other_identifier, reason,
//	                   event_id, events. reason: blocked or invalid (a value, other_* NULL,
//	                   identifier as written), limit, bridge or max_group_size (a refused link)
//	<m>_changes        changed_at, run_id, identifier_type, identifier, old_profile_id,
//	                   new_profile_id, reason: merge, split, removed or reanchor (append-only)
//	<m>_metrics        run_id, built_at, profiles, identifiers, merges, splits, dropped_blocked,
//	                   dropped_invalid, dropped_limit, dropped_max_group_size, dropped_bridge,
//	                   largest_profile, rounds, limit_rounds, links, conflicted_identifiers,
//	                   observations, seconds, round_log, rules (JSON, which explain reads)
//	                   (append-only)
//
// Every run rebuilds from all observations; the run package already skips the model when
// neither its SQL, its config nor its inputs changed.
//
// # The algorithm
//
// Work tables live in the warehouse's staging area (in memory on DuckDB); every step is one
// set-based statement over them, and every choice is made by a total order on the data, so the
// result depends on the set of events only, never on the order rows were loaded in.
//
//  1. Events are numbered by (timestamp, event id); rows with the same pair are one event.
//     Each identifier column becomes occurrences (event, rule, raw value); each distinct raw
//     value is normalized, checked against the blocklist and validated once. Blocked and
//     invalid values go to the audit.
//  2. Identifiers (type, value) become nodes numbered in priority order: type priority, then
//     first seen, then value. A profile's smallest node is therefore its anchor: its
//     highest-priority identifier, earliest seen, ties by value. The profile id is
//     'p_' || the first 16 hex digits of md5(type || ':' || value) of the anchor, so a profile
//     keeps its id across runs and full rebuilds unless it merges, splits, or gains an
//     identifier that outranks its anchor.
//  3. Links: every event links its highest-priority identifier (its hub) to each of its other
//     identifiers, a star, which connects them all. Links are counted over events and keep
//     their first event. A link's level is the priority of its lower-priority end.
//  4. max_group_size: an identifier linked to more than that many others loses all its links
//     (reason max_group_size); it stays a profile on its own.
//  5. Connected components of all links (components, in cc.go): each round hooks every
//     super-node onto its smallest neighbour, flattens the hooks by pointer jumping, hooks the
//     roots nobody hooked onto onto their smallest neighbour's root, and contracts the links
//     between roots. Every tree then has two super-nodes or more, so the super-nodes that still
//     have links at least halve each round: O(log n) rounds, each logged, and max_rounds fails
//     the build loudly. Finished components drop out of the working set as they complete. The
//     label of a component is its smallest node, its anchor. (The textbook alternative, one hop
//     of min-label propagation per round, needs as many rounds as the longest path; the
//     benchmark compares both on the same links.)
//  6. Limits (enforceLimits, in limits.go; see below). Components within every limit are
//     final: they come out exactly as connected components. Only the identifiers of components
//     that break a limit, or in which two groups of higher-priority identifiers are joined only
//     through a type that does not bridge, are re-resolved.
//  7. Outputs: the map, the accepted links (those inside a profile), the events' profiles (of
//     their hub), the audit. Changes compare the new map with the previous one: an identifier
//     whose profile id changed is a merge when its new profile gathers identifiers of several
//     old profiles, a split when its old profile's identifiers went to several new ones,
//     removed when it is gone (blocked now, or its events are), else reanchor (the profile
//     gained an identifier that outranks its anchor).
//
// # Limits
//
// The identifiers of the components that break a limit are re-resolved from singletons, level
// by level from the highest priority: the user_id-user_id links first, then the links whose
// weaker end is an email, and so on. Within a level, rounds of a constrained Borůvka step:
//
//   - Every pending link is mapped to the pair of profiles it would join. A pair whose union
//     would exceed a limit is refused for good (reason limit): profiles only grow, so it can
//     never become acceptable. At the level of a type that does not bridge, each higher-priority
//     type also counts as a pseudo-type with limit 1 and a count of 1 in every profile that
//     holds it, so a pair that both hold it is refused too (reason bridge), by the same
//     machinery.
//   - Every profile points at its strongest compatible neighbour: most events over the links
//     between them, then the earliest first event, then the smallest id. Following the
//     pointers ends in a pair that chose each other, the root of its group.
//   - A group within every limit merges whole. In a group that is not, the root pair merges (it
//     is compatible), and the profiles pointing straight at it join in order of strength as
//     long as every type stays within its limit (a running sum per type); the others wait for
//     the next round, where they are judged against the grown profile.
//
// A level ends when no compatible link is left. Each round merges at least one pair in every
// group, so it terminates; in practice in one to three rounds per level (max_rounds caps it).
//
// What this guarantees:
//
//   - Every profile holds at most `limit` identifiers of each type, and no identifier of a type
//     that does not bridge joined two profiles that both held a higher-priority type.
//   - Priority: a link is only ever refused because of profiles built from links of its own or
//     a higher level; a lower-priority link never displaces a higher-priority one. So a browser
//     shared by two users keeps its link to one of them, the one it was seen with in most
//     events (then the earliest), the link to the other is refused with reason limit, and both
//     users keep their own identifiers.
//   - No refused link could be restored: each one joins two profiles whose union breaks a
//     limit (or a bridge rule).
//   - Components that break no limit are untouched; everything is deterministic and
//     independent of load order.
//
// It does not promise the largest possible set of links (a hard problem): within a level it is
// greedy by link strength, like Kruskal's algorithm run in Borůvka rounds.
//
// Future work: incremental resolution (re-resolve only the components that new events touch,
// which the anchor-based ids already allow), probabilistic signals (IP, user agent) for
// persons who never identify, and the BigQuery renderings of the Dialect methods used here
// (RegexpContains, RegexpReplace, MD5Hex).
package identity
