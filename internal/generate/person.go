package generate

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// evRef locates one serialized message in gen.buf.
type evRef struct {
	key    int64 // receivedAt in ms: the order a collector would have written the message
	start  int32 // [start, end) in gen.buf, end includes the trailing '\n'
	end    int32
	msgOff int32 // offset of the 36-byte messageId value
	person int32 // index of the person within the chunk
}

// device is one browser (cookie), the mobile app install, or the shop's server.
type device struct {
	kind      int // devWeb, devMobile, devServer
	anonID    string
	loggedIn  bool
	nullUser  bool   // analytics.js sends "userId":null while anonymous
	badUserID string // broken integration: sends a placeholder userId while anonymous
	noLocale  bool
	skew      int64 // device clock skew, ms
	ip        string
	ua        int
	lib       int
	// mobile only
	deviceID string
	model    int
	osVer    int
	app      int
}

const (
	devWeb = iota
	devMobile
	devServer
)

// person is one real human; the truth behind every event they cause.
type person struct {
	idx         int
	country     int
	first, last int
	email       string // canonical, lower case
	workEmail   string // optional second address
	phone       [12]byte
	phoneLen    int
	hasPhone    bool
	userID      string // "" when the person never creates an account
	plan        int
	currency    string
	spend       float64 // basket multiplier; a long tail of big spenders
	testEmail   bool    // types test@test.com into forms
	consent     int     // 0 none, 1 traits.consent, 2 context.consent
	marketing   bool
	withdraw    bool
	groupID     string
	company     int
	browsers    []device
	mobile      device
	hasMobile   bool
	signedUp    bool
	cartID      string
	orderSeq    int
	curPage     pageView
	prevPage    pageView
	hasPrevPage bool
	campaign    int // campaign of the current landing page, -1 none
	ref         int // referrer of the current page: refInternal, refDirect or an externalReferrers index
}

// pageView is what the current web page (or app screen) shows.
type pageView struct {
	kind    int
	product int
	cat     int
	search  int
	blog    int
}

const (
	pgHome = iota
	pgCategory
	pgProduct
	pgSearch
	pgCart
	pgCheckout
	pgConfirmation
	pgSignup
	pgLogin
	pgAccount
	pgBlog
	pgNewsletter
)

const (
	refInternal = -2
	refDirect   = -1
)

// gen generates the events of the persons of one chunk. Not safe for concurrent use; each worker
// has its own.
type gen struct {
	seed     uint64
	start    int64 // window, Unix ms
	end      int64
	src      rand.PCG
	r        *rand.Rand
	buf      []byte
	evs      []evRef
	keys     []uint64
	p        person
	pi       int32 // person index within chunk
	sessions []int64
	orders   []int8
	items    []int // product indices of the current cart
	qty      []int
}

func newGen(seed uint64, start, end int64) *gen {
	g := &gen{seed: seed, start: start, end: end}
	g.r = rand.New(&g.src)
	return g
}

func (g *gen) reset() {
	g.buf = g.buf[:0]
	g.evs = g.evs[:0]
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

// between returns a uniform int64 in [lo, hi).
func (g *gen) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + g.r.Int64N(hi-lo)
}

func (g *gen) uuid() string { return uuidString(g.r.Uint64(), g.r.Uint64()) }

// derivedAnonID is browser k of person idx. It is derived from the seed rather than drawn from the
// person's stream so that another person can reuse it (a family laptop).
func derivedAnonID(seed uint64, idx, k int) string {
	h := mix(seed, uint64(idx), 0xB0+uint64(k))
	return uuidString(h, splitmix64(h^0x5bd1e995))
}

// permute is a bijection on [0, 64e6) used to give every person unique phone numbers and ids.
func permute(idx int, seed uint64) uint64 {
	const m = 64_000_000
	return (uint64(idx)%m*48271 + seed%m) % m
}

// person sets up g.p for global person idx and generates all of its events.
func (g *gen) person(idx int, pi int32) {
	g.src.Seed(mix(g.seed, uint64(idx), 1), mix(g.seed, uint64(idx), 2))
	g.pi = pi
	p := &g.p
	r := g.r
	*p = person{idx: idx, browsers: p.browsers[:0], campaign: -1}

	switch x := r.IntN(100); {
	case x < 58:
		p.country = cUS
	case x < 80:
		p.country = cUK
	case x < 92:
		p.country = cDE
	default:
		p.country = cFR
	}
	p.currency = currencies[p.country]
	if r.IntN(12) == 0 { // some pay in another currency (travellers, EUR accounts in the UK)
		p.currency = []string{"USD", "EUR", "GBP"}[r.IntN(3)]
	}
	p.first = r.IntN(len(firstNames))
	p.last = r.IntN(len(lastNames))
	p.email = g.makeEmail(p)
	if r.IntN(10) == 0 {
		c := r.IntN(len(companies))
		p.workEmail = firstNames[p.first].ascii[:1] + lastNames[p.last].ascii + strconv.Itoa(idx) + "@" + companies[c].domain
	}
	p.hasPhone = r.IntN(100) < 55
	g.makePhone(p)
	p.userID = g.userID(idx, r.IntN(100) < 55)
	p.plan = r.IntN(len(plans))
	p.spend = math.Exp(r.NormFloat64() * 0.6)
	p.testEmail = r.IntN(100) < 2
	switch x := r.IntN(100); {
	case x < 45:
		p.consent = 1
	case x < 65:
		p.consent = 2
	}
	p.marketing = r.IntN(100) < 60
	p.withdraw = p.consent != 0 && p.marketing && r.IntN(100) < 12
	if p.userID != "" && r.IntN(100) < 4 {
		// B2B accounts: several persons share a group.
		grp := permute(idx/40, g.seed) % 100_000
		p.groupID = "grp_" + strconv.FormatUint(100_000+grp, 10)
		p.company = int(grp % uint64(len(companies)))
	}

	// Devices.
	nb := 1
	switch x := r.IntN(100); {
	case x < 50:
		nb = 1
	case x < 80:
		nb = 2
	case x < 94:
		nb = 3
	default:
		nb = 4
	}
	lib := r.IntN(len(ajsVersions))
	for k := 0; k < nb; k++ {
		d := device{kind: devWeb, anonID: derivedAnonID(g.seed, idx, k), ua: r.IntN(len(userAgents)), lib: lib}
		d.ip = g.ip()
		d.nullUser = d.lib < 2
		d.noLocale = r.IntN(20) == 0
		if r.IntN(30) == 0 {
			d.skew = g.between(-600_000, 600_000) // a few minutes off
		}
		p.browsers = append(p.browsers, d)
	}
	// NOISE: a family laptop shared with the previous person.
	shared := -1
	if idx > 0 && r.IntN(100) < 4 {
		shared = len(p.browsers)
		d := device{kind: devWeb, anonID: derivedAnonID(g.seed, idx-1, 0), ua: r.IntN(len(userAgents)), lib: lib, ip: g.ip()}
		p.browsers = append(p.browsers, d)
	}
	// NOISE: a misconfigured site that sends the literal "anonymous".
	if r.IntN(100) < 1 {
		p.browsers[len(p.browsers)-1].anonID = placeholderAnonID
	}
	// NOISE: a broken integration that sends a placeholder userId while anonymous.
	if r.IntN(100) < 2 {
		p.browsers[0].badUserID = placeholderUserIDs[r.IntN(len(placeholderUserIDs))]
	}
	if r.IntN(100) < 35 {
		p.hasMobile = true
		m := &p.mobile
		*m = device{kind: devMobile, anonID: derivedAnonID(g.seed, idx, 9), model: r.IntN(len(mobileModels)), app: r.IntN(len(appVersions))}
		m.osVer = r.IntN(len(mobileModels[m.model].osVersions))
		m.ip = g.ip()
		if mobileModels[m.model].typ == "ios" {
			m.deviceID = uuidString(r.Uint64(), r.Uint64())
			m.deviceID = upperASCII(m.deviceID)
		} else {
			m.deviceID = strconv.FormatUint(r.Uint64()|1<<63, 16)[:16]
		}
		if r.IntN(25) == 0 {
			m.skew = g.between(-3_600_000, 3_600_000)
		}
	}

	// Sessions: how often the person visits, when they buy.
	nSess := 1 + int(r.ExpFloat64()*1.3)
	nOrders := 0
	if r.IntN(100) < 25 {
		// Pareto tail: most buyers order once, a few order dozens of times.
		nOrders = int(math.Min(60, math.Floor(1/math.Pow(1-r.Float64(), 1/1.7))))
	}
	if nSess < nOrders+1 {
		nSess = nOrders + 1
	}
	if nSess > 80 {
		nSess = 80
	}
	g.sessions = g.sessions[:0]
	g.orders = g.orders[:0]
	for range nSess {
		g.sessions = append(g.sessions, g.between(g.start, g.end-4*3600_000))
		g.orders = append(g.orders, 0)
	}
	slices.Sort(g.sessions)
	for range nOrders {
		s := 1 + r.IntN(nSess)
		if s >= nSess {
			s = nSess - 1
		}
		g.orders[s]++
	}
	signup, newsletter, grp, withdrawAt := -1, -1, -1, -1
	if p.userID != "" && r.IntN(100) < 50 {
		// An existing customer: signed up before the window, maybe still logged in somewhere.
		p.signedUp = true
		for k := range p.browsers {
			p.browsers[k].loggedIn = p.browsers[k].anonID != placeholderAnonID && r.IntN(100) < 30
		}
		p.mobile.loggedIn = r.IntN(100) < 60
		signup = -1
	} else if p.userID != "" {
		signup = r.IntN(min(nSess, 3))
	}
	if p.userID != "" {
		from := max(signup, 0) // group and consent changes happen once there is an account
		if p.groupID != "" {
			grp = from + r.IntN(nSess-from)
		}
		if p.withdraw && from+1 < nSess {
			withdrawAt = from + 1 + r.IntN(nSess-from-1)
		}
	}
	if r.IntN(100) < 15 {
		newsletter = r.IntN(nSess)
	}

	for s, t := range g.sessions {
		d := &p.browsers[0]
		if p.hasMobile && r.IntN(100) < 40 {
			d = &p.mobile
		} else if shared >= 0 && r.IntN(100) < 40 {
			d = &p.browsers[shared]
		} else if len(p.browsers) > 1 && r.IntN(2) == 0 {
			d = &p.browsers[1+r.IntN(len(p.browsers)-1)]
		}
		g.session(d, t, s == signup, s == newsletter, s == grp, s == withdrawAt, int(g.orders[s]))
	}
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

// userID is unique per person (a bijection of idx) and looks like the shop's database ids.
func (g *gen) userID(idx int, has bool) string {
	if !has {
		return ""
	}
	return "usr_" + strconv.FormatUint(10_000_000+permute(idx, g.seed>>7)*3+uint64(idx/64_000_000), 10)
}

func (g *gen) makeEmail(p *person) string {
	f, l := firstNames[p.first].ascii, lastNames[p.last].ascii
	n := strconv.Itoa(p.idx) // unique: two real people never share an address
	dom := mailDomains[g.r.IntN(len(mailDomains))]
	switch g.r.IntN(4) {
	case 0:
		return f + "." + l + n + "@" + dom
	case 1:
		return f + n + "@" + dom
	case 2:
		return f[:1] + l + n + "@" + dom
	default:
		return f + "_" + l + "." + n + "@" + dom
	}
}

// makePhone stores the national significant number of the person's phone (digits only).
func (g *gen) makePhone(p *person) {
	n := permute(p.idx, g.seed) // unique per person below 64M persons
	var s []byte
	switch p.country {
	case cUS:
		s = append(p.phone[:0], usAreaCodes[n%uint64(len(usAreaCodes))]...)
		rest := n / uint64(len(usAreaCodes))
		s = strconv.AppendUint(s, 200+rest/10000%800, 10)
		s = appendPadded(s, rest%10000, 4)
	case cUK:
		s = append(p.phone[:0], '7')
		s = appendPadded(s, 400_000_000+n, 9)
	case cDE:
		s = append(p.phone[:0], '1', '5', '1')
		s = appendPadded(s, n, 8)
	default:
		s = append(p.phone[:0], '6')
		s = appendPadded(s, n, 8)
	}
	p.phoneLen = len(s)
}

func appendPadded(b []byte, v uint64, width int) []byte {
	var tmp [20]byte
	d := strconv.AppendUint(tmp[:0], v, 10)
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

func (g *gen) ip() string {
	firsts := [...]byte{24, 50, 67, 71, 73, 76, 81, 86, 92, 98, 104, 108, 174, 185, 212, 217}
	v := g.r.Uint32()
	b := make([]byte, 0, 15)
	b = strconv.AppendUint(b, uint64(firsts[v&15]), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(v>>8&0xff), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(v>>16&0xff), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(1+(v>>24)%254), 10)
	return string(b)
}

// session simulates one visit on device d starting at t.
func (g *gen) session(d *device, t int64, signup, newsletter, group, withdraw bool, orders int) {
	p := &g.p
	r := g.r
	p.hasPrevPage = false
	p.campaign = -1
	step := func() { t += g.between(2_000, 75_000) }

	// Landing.
	landing := pageView{kind: pgHome}
	switch x := r.IntN(10); {
	case x < 4:
		landing = pageView{kind: pgProduct, product: r.IntN(len(catalog))}
	case x < 6:
		landing = pageView{kind: pgCategory, cat: r.IntN(len(categories))}
	case x < 7:
		landing = pageView{kind: pgBlog, blog: r.IntN(len(blogPosts))}
	}
	if d.kind == devWeb && r.IntN(100) < 18 {
		p.campaign = r.IntN(len(campaigns))
	}
	g.view(d, t, landing)
	p.campaign = -1
	if landing.kind == pgProduct {
		step()
		g.productEvent(d, t, "Product Viewed", landing.product, 1)
	}

	// Identity moments.
	if signup {
		step()
		g.view(d, t, pageView{kind: pgSignup})
		step()
		p.signedUp = true
		d.loggedIn = true
		g.identify(d, t, idSignup)
		t += g.between(50, 900)
		g.signedUp(d, t)
		if r.IntN(100) < 25 {
			t += g.between(10, 300)
			g.alias(d, t)
		}
	} else if p.signedUp && !d.loggedIn && (r.IntN(100) < 45 || (d.kind == devMobile && r.IntN(100) < 70)) {
		step()
		g.view(d, t, pageView{kind: pgLogin})
		step()
		d.loggedIn = true
		g.identify(d, t, idLogin)
	}

	// Browsing.
	nPages := 1 + r.IntN(3)
	if orders > 0 {
		nPages++
	}
	for range nPages {
		step()
		var pv pageView
		switch x := r.IntN(20); {
		case x < 10:
			pv = pageView{kind: pgProduct, product: r.IntN(len(catalog))}
		case x < 15:
			pv = pageView{kind: pgCategory, cat: r.IntN(len(categories))}
		case x < 17:
			pv = pageView{kind: pgSearch, search: r.IntN(len(searchTerms))}
		case x < 18 && p.signedUp && d.loggedIn:
			pv = pageView{kind: pgAccount}
		default:
			pv = pageView{kind: pgHome}
		}
		g.view(d, t, pv)
		if pv.kind == pgProduct && r.IntN(100) < 75 {
			t += g.between(300, 4_000)
			g.productEvent(d, t, "Product Viewed", pv.product, 1)
		}
	}

	if newsletter {
		step()
		g.view(d, t, pageView{kind: pgNewsletter})
		step()
		g.identify(d, t, idNewsletter)
		t += g.between(20, 500)
		g.emailSubscribed(d, t)
	}
	if group && d.loggedIn {
		step()
		g.group(d, t)
	}
	if withdraw && d.loggedIn {
		step()
		g.view(d, t, pageView{kind: pgAccount})
		step()
		p.marketing = false
		g.identify(d, t, idConsent)
	}

	// Shopping.
	for o := 0; o < orders; o++ {
		g.fillCart()
		for i, it := range g.items {
			step()
			g.productEvent(d, t, "Product Added", it, g.qty[i])
		}
		step()
		g.view(d, t, pageView{kind: pgCart})
		step()
		orderID := g.nextOrderID()
		g.cartEvent(d, t, "Checkout Started", orderID)
		step()
		g.view(d, t, pageView{kind: pgCheckout})
		if !d.loggedIn && p.signedUp {
			step()
			d.loggedIn = true
			g.identify(d, t, idLogin)
		} else if !d.loggedIn {
			step()
			g.identify(d, t, idGuest)
		}
		step()
		if d.loggedIn && p.userID != "" && r.IntN(100) < 40 {
			// Sent from the shop's backend: userId only, no anonymousId, no page.
			g.cartEvent(&device{kind: devServer}, t+g.between(100, 3_000), "Order Completed", orderID)
		} else {
			g.cartEvent(d, t, "Order Completed", orderID)
		}
		step()
		g.view(d, t, pageView{kind: pgConfirmation})
		p.cartID = ""
	}
	if orders == 0 && r.IntN(100) < 18 { // abandoned cart
		g.fillCart()
		g.items = g.items[:1+r.IntN(len(g.items))]
		for i, it := range g.items {
			step()
			g.productEvent(d, t, "Product Added", it, g.qty[i])
		}
		if r.IntN(100) < 35 {
			step()
			g.cartEvent(d, t, "Checkout Started", g.nextOrderID())
		}
	}

	// Logging out resets analytics.js: a fresh anonymousId on the same browser.
	if d.kind == devWeb && d.loggedIn && d.anonID != placeholderAnonID && r.IntN(100) < 6 {
		d.loggedIn = false
		d.anonID = g.uuid()
	}
}

func (g *gen) nextOrderID() string {
	g.p.orderSeq++
	return "ord_" + strconv.Itoa(g.p.idx) + "_" + strconv.Itoa(g.p.orderSeq)
}

func (g *gen) fillCart() {
	p := &g.p
	r := g.r
	n := 1 + int(r.ExpFloat64()*p.spend*0.8)
	if n > 12 {
		n = 12
	}
	g.items = g.items[:0]
	g.qty = g.qty[:0]
	for range n {
		g.items = append(g.items, r.IntN(len(catalog)))
		q := 1
		if r.IntN(100) < 15+int(10*p.spend) {
			q += r.IntN(3)
		}
		g.qty = append(g.qty, q)
	}
	if p.cartID == "" {
		p.cartID = g.uuid()
	}
}
