package generate

import (
	"strconv"
)

// Serializers for the Segment spec messages. Each call appends exactly one line to g.buf and one
// evRef to g.evs.

// head opens a message: type, event/name, ids and the four timestamps.
func (g *gen) head(d *device, t int64, typ, nameKey, name string) {
	p := &g.p
	r := g.r
	start := len(g.buf)
	b := g.buf
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	if nameKey != "" {
		b = appendKV(b, nameKey, name)
	}
	b = append(b, `,"messageId":"`...)
	msgOff := len(b)
	b = appendUUID(b, r.Uint64(), r.Uint64(), false)
	b = append(b, '"')
	if d.kind != devServer {
		b = append(b, `,"anonymousId":`...)
		b = appendString(b, d.anonID)
	}
	switch {
	case d.kind == devServer:
		b = appendKV(b, "userId", p.userID)
	case d.loggedIn && p.userID != "":
		b = appendKV(b, "userId", p.userID)
	case d.badUserID != "":
		b = appendKV(b, "userId", d.badUserID)
	case d.nullUser:
		b = append(b, `,"userId":null`...)
	}

	// Segment computes timestamp = receivedAt - (sentAt - originalTimestamp), which corrects the
	// device clock skew; sentAt and originalTimestamp keep the device's (possibly wrong) clock.
	var delay, net int64
	switch d.kind {
	case devWeb:
		delay = g.between(10, 1_500)
		net = g.between(3, delay/2+4)
	case devMobile:
		delay = g.between(200, 30_000) // batched: flushAt 20 events or 30 s
		if r.IntN(25) == 0 {
			delay = g.between(60_000, 3*3600_000) // offline, sent later
		}
		net = g.between(20, 800)
	default:
		delay = g.between(1, 40)
		net = g.between(1, delay/2+2)
	}
	ts := t + net
	orig := t + d.skew
	sent := orig + delay
	recv := t + delay + net
	b = append(b, `,"timestamp":"`...)
	b = appendTime(b, ts)
	b = append(b, `","originalTimestamp":"`...)
	b = appendTime(b, orig)
	b = append(b, `","sentAt":"`...)
	b = appendTime(b, sent)
	b = append(b, `","receivedAt":"`...)
	b = appendTime(b, recv)
	b = append(b, '"')
	g.buf = b
	g.evs = append(g.evs, evRef{key: recv, start: int32(start), msgOff: int32(msgOff), person: g.pi})
}

// tail closes the message opened by head.
func (g *gen) tail() {
	g.buf = append(g.buf, '}', '\n')
	g.evs[len(g.evs)-1].end = int32(len(g.buf))
}

// context appends the "context" object for device d.
func (g *gen) context(d *device, consent bool) {
	p := &g.p
	b := g.buf
	b = append(b, `,"context":{`...)
	switch d.kind {
	case devWeb:
		if g.r.IntN(100) != 0 { // missing optional field
			b = append(b, `"ip":"`...)
			b = append(b, d.ip...)
			b = append(b, `",`...)
		}
		b = append(b, `"userAgent":`...)
		b = appendString(b, userAgents[d.ua])
		if !d.noLocale {
			b = append(b, `,"locale":"`...)
			b = append(b, locales[p.country]...)
			b = append(b, '"')
		}
		b = append(b, `,"library":{"name":"analytics.js","version":"`...)
		b = append(b, ajsVersions[d.lib]...)
		b = append(b, `"},"page":`...)
		b = g.appendPage(b)
		if p.campaign >= 0 {
			c := &campaigns[p.campaign]
			b = append(b, `,"campaign":{"name":"`...)
			b = append(b, c.name...)
			b = append(b, `","source":"`...)
			b = append(b, c.source...)
			b = append(b, `","medium":"`...)
			b = append(b, c.medium...)
			b = append(b, '"')
			if c.term != "" {
				b = appendKV(b, "term", c.term)
			}
			if c.content != "" {
				b = appendKV(b, "content", c.content)
			}
			b = append(b, '}')
		}
	case devMobile:
		m := &mobileModels[d.model]
		b = append(b, `"ip":"`...)
		b = append(b, d.ip...)
		b = append(b, `","locale":"`...)
		b = append(b, locales[p.country]...)
		b = append(b, `","timezone":"`...)
		b = append(b, timezones[p.country]...)
		if m.typ == "ios" {
			b = append(b, `","library":{"name":"analytics-swift","version":"1.6.1"}`...)
		} else {
			b = append(b, `","library":{"name":"analytics-kotlin","version":"1.16.3"}`...)
		}
		a := &appVersions[d.app]
		b = append(b, `,"app":{"name":"`+appName+`","version":"`...)
		b = append(b, a.version...)
		b = append(b, `","build":"`...)
		b = append(b, a.build...)
		b = append(b, `","namespace":"`+appNS+`"},"device":{"id":"`...)
		b = append(b, d.deviceID...)
		b = append(b, `","manufacturer":"`...)
		b = append(b, m.manufacturer...)
		b = append(b, `","model":"`...)
		b = append(b, m.model...)
		b = append(b, `","type":"`...)
		b = append(b, m.typ...)
		b = append(b, `"},"os":{"name":"`...)
		b = append(b, m.osName...)
		b = append(b, `","version":"`...)
		b = append(b, m.osVersions[d.osVer]...)
		b = append(b, `"},"network":{"wifi":`...)
		b = strconv.AppendBool(b, g.r.IntN(3) != 0)
		b = append(b, '}')
	default:
		b = append(b, `"library":{"name":"analytics-node","version":"2.2.1"}`...)
	}
	if consent {
		b = append(b, `,"consent":{"categoryPreferences":{"marketing":`...)
		b = strconv.AppendBool(b, p.marketing)
		b = append(b, `,"analytics":true}}`...)
	}
	g.buf = append(b, '}')
}

var pageNames = [...]string{
	pgHome: "Home", pgCategory: "Category", pgProduct: "Product", pgSearch: "Search", pgCart: "Cart",
	pgCheckout: "Checkout", pgConfirmation: "Order Confirmation", pgSignup: "Sign Up", pgLogin: "Login",
	pgAccount: "Account", pgBlog: "Blog", pgNewsletter: "Newsletter",
}

var screenNames = [...]string{
	pgHome: "Home", pgCategory: "Category", pgProduct: "Product Detail", pgSearch: "Search", pgCart: "Cart",
	pgCheckout: "Checkout", pgConfirmation: "Order Confirmation", pgSignup: "Create Account", pgLogin: "Sign In",
	pgAccount: "Profile", pgBlog: "Stories", pgNewsletter: "Notifications",
}

func appendPath(b []byte, pv *pageView) []byte {
	switch pv.kind {
	case pgHome:
		return append(b, '/')
	case pgCategory:
		b = append(b, "/c/"...)
		return append(b, categories[pv.cat].slug...)
	case pgProduct:
		b = append(b, "/p/"...)
		return append(b, catalog[pv.product].slug...)
	case pgSearch:
		return append(b, "/search"...)
	case pgCart:
		return append(b, "/cart"...)
	case pgCheckout:
		return append(b, "/checkout"...)
	case pgConfirmation:
		return append(b, "/checkout/confirmation"...)
	case pgSignup:
		return append(b, "/account/signup"...)
	case pgLogin:
		return append(b, "/account/login"...)
	case pgAccount:
		return append(b, "/account"...)
	case pgBlog:
		b = append(b, "/blog/"...)
		return append(b, blogPosts[pv.blog].slug...)
	default:
		return append(b, "/newsletter"...)
	}
}

// appendSearch appends the query string of the current page ("" or "?...").
func (g *gen) appendSearch(b []byte, pv *pageView, campaign int) []byte {
	if pv.kind == pgSearch {
		b = append(b, "?q="...)
		for _, c := range []byte(searchTerms[pv.search]) {
			if c == ' ' {
				c = '+'
			}
			b = append(b, c)
		}
		return b
	}
	if campaign >= 0 {
		c := &campaigns[campaign]
		b = append(b, "?utm_source="...)
		b = append(b, c.source...)
		b = append(b, "&utm_medium="...)
		b = append(b, c.medium...)
		b = append(b, "&utm_campaign="...)
		b = append(b, c.name...)
	}
	return b
}

func appendTitle(b []byte, pv *pageView) []byte {
	switch pv.kind {
	case pgHome:
		return append(b, "Northwind Outfitters – Gear for the outdoors"...)
	case pgCategory:
		b = append(b, categories[pv.cat].name...)
	case pgProduct:
		b = append(b, catalog[pv.product].name...)
	case pgSearch:
		b = append(b, "Search results for “"...)
		b = append(b, searchTerms[pv.search]...)
		b = append(b, "”"...)
	case pgCart:
		b = append(b, "Your cart"...)
	case pgCheckout:
		b = append(b, "Checkout"...)
	case pgConfirmation:
		b = append(b, "Thank you for your order"...)
	case pgSignup:
		b = append(b, "Create an account"...)
	case pgLogin:
		b = append(b, "Sign in"...)
	case pgAccount:
		b = append(b, "My account"...)
	case pgBlog:
		b = append(b, blogPosts[pv.blog].title...)
	default:
		b = append(b, "Join our newsletter"...)
	}
	return append(b, siteTitle...)
}

// appendPage appends the analytics.js page object of the current page (context.page and the
// properties of a page call).
func (g *gen) appendPage(b []byte) []byte {
	p := &g.p
	pv := &p.curPage
	b = append(b, `{"path":"`...)
	b = appendPath(b, pv)
	b = append(b, `","referrer":"`...)
	switch {
	case p.ref == refInternal:
		b = append(b, siteURL...)
		b = appendPath(b, &p.prevPage)
		b = g.appendSearch(b, &p.prevPage, -1)
	case p.ref >= 0:
		b = append(b, externalReferrers[p.ref]...)
	}
	if pv.kind == pgSearch || p.campaign >= 0 {
		b = append(b, `","search":"`...)
		b = g.appendSearch(b, pv, p.campaign)
	}
	b = append(b, `","title":"`...)
	b = appendTitle(b, pv)
	b = append(b, `","url":"`+siteURL...)
	b = appendPath(b, pv)
	b = g.appendSearch(b, pv, p.campaign)
	return append(b, '"', '}')
}

// view emits a page call on the web or a screen call in the app, and makes pv the current page.
func (g *gen) view(d *device, t int64, pv pageView) {
	p := &g.p
	if p.hasPrevPage {
		p.prevPage = p.curPage
		p.ref = refInternal
	} else {
		switch c := p.campaign; {
		case c >= 0 && campaigns[c].medium == "email":
			p.ref = refDirect
		case c >= 0 && campaigns[c].source == "google":
			p.ref = 0
		case c >= 0 && campaigns[c].source == "facebook":
			p.ref = 5
		case c >= 0 && campaigns[c].source == "instagram":
			p.ref = 6
		case g.r.IntN(10) < 4:
			p.ref = refDirect
		default:
			p.ref = g.r.IntN(len(externalReferrers))
		}
	}
	p.curPage = pv
	p.hasPrevPage = true
	if d.kind == devMobile {
		g.head(d, t, "screen", "name", screenNames[pv.kind])
		g.context(d, false)
		b := append(g.buf, `,"properties":{`...)
		switch pv.kind {
		case pgProduct:
			pr := &catalog[pv.product]
			b = append(b, `"product_id":"`...)
			b = append(b, pr.id...)
			b = append(b, `","category":"`...)
			b = append(b, categories[pr.category].name...)
			b = append(b, '"')
		case pgCategory:
			b = append(b, `"category":"`...)
			b = append(b, categories[pv.cat].name...)
			b = append(b, '"')
		case pgSearch:
			b = appendKey(b, "query")
			b = appendString(b, searchTerms[pv.search])
		}
		g.buf = append(b, '}')
		g.tail()
		return
	}
	if g.r.IntN(50) == 0 { // analytics.page() without a name
		g.head(d, t, "page", "", "")
	} else {
		g.head(d, t, "page", "name", pageNames[pv.kind])
	}
	g.context(d, false)
	g.buf = append(g.buf, `,"properties":`...)
	g.buf = g.appendPage(g.buf)
	g.tail()
}

// price converts a catalog price (USD cents) to the person's currency.
func (g *gen) price(cents int64) int64 {
	switch g.p.currency {
	case "GBP":
		return cents * 79 / 100
	case "EUR":
		return cents * 92 / 100
	}
	return cents
}

func (g *gen) appendProduct(b []byte, i, qty int) []byte {
	pr := &catalog[i]
	b = append(b, `"product_id":"`...)
	b = append(b, pr.id...)
	b = append(b, `","sku":"`...)
	b = append(b, pr.sku...)
	b = append(b, `","name":"`...)
	b = append(b, pr.name...)
	b = append(b, `","category":"`...)
	b = append(b, categories[pr.category].name...)
	b = append(b, `","price":`...)
	b = appendMoney(b, g.price(pr.cents))
	b = append(b, `,"quantity":`...)
	return strconv.AppendInt(b, int64(qty), 10)
}

// productEvent emits Product Viewed / Product Added.
func (g *gen) productEvent(d *device, t int64, event string, i, qty int) {
	g.head(d, t, "track", "event", event)
	g.context(d, false)
	b := append(g.buf, `,"properties":{`...)
	b = g.appendProduct(b, i, qty)
	b = append(b, `,"currency":"`...)
	b = append(b, g.p.currency...)
	b = append(b, `","url":"`+siteURL+`/p/`...)
	b = append(b, catalog[i].slug...)
	b = append(b, '"')
	if event == "Product Added" {
		b = append(b, `,"cart_id":"`...)
		b = append(b, g.p.cartID...)
		b = append(b, '"')
	}
	g.buf = append(b, '}')
	g.tail()
}

// cartEvent emits Checkout Started or Order Completed for the current cart. The order id is
// reserved when the checkout opens, so both carry it (abandoned checkouts leave gaps).
func (g *gen) cartEvent(d *device, t int64, event, orderID string) {
	completed := event == "Order Completed"
	p := &g.p
	var sub int64
	for i, it := range g.items {
		sub += g.price(catalog[it].cents) * int64(g.qty[i])
	}
	g.head(d, t, "track", "event", event)
	g.context(d, false)
	b := append(g.buf, `,"properties":{`...)
	b = append(b, `"order_id":"`...)
	b = append(b, orderID...)
	b = append(b, `","checkout_id":"`...)
	b = append(b, p.cartID...)
	b = append(b, '"')
	discount := int64(0)
	if completed && g.r.IntN(10) == 0 {
		discount = sub / 10
		b = append(b, `,"coupon":"AUTUMN10","discount":`...)
		b = appendMoney(b, discount)
	}
	revenue := sub - discount
	if completed {
		shipping := int64(0)
		if revenue < 7500 {
			shipping = 595
		}
		tax := revenue * 8 / 100
		b = append(b, `,"revenue":`...)
		b = appendMoney(b, revenue)
		b = append(b, `,"shipping":`...)
		b = appendMoney(b, shipping)
		b = append(b, `,"tax":`...)
		b = appendMoney(b, tax)
		b = append(b, `,"total":`...)
		b = appendMoney(b, revenue+shipping+tax)
	} else {
		b = append(b, `,"value":`...)
		b = appendMoney(b, revenue)
		b = append(b, `,"revenue":`...)
		b = appendMoney(b, revenue)
	}
	b = append(b, `,"currency":"`...)
	b = append(b, p.currency...)
	b = append(b, `","products":[`...)
	for i, it := range g.items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = g.appendProduct(b, it, g.qty[i])
		b = append(b, '}')
	}
	g.buf = append(b, ']', '}')
	g.tail()
}

const (
	idSignup = iota
	idLogin
	idNewsletter
	idGuest
	idConsent
)

// appendEmail appends an email address as a JSON string, sometimes the way people type them:
// mixed case, surrounding spaces.
func (g *gen) appendEmail(b []byte, email string) []byte {
	b = append(b, '"')
	switch x := g.r.IntN(100); {
	case x < 8: // " Jane.Doe12@Gmail.COM "
		b = append(b, ' ')
		upNext, inDomain := true, false
		lastDot := -1
		for i := len(email) - 1; i >= 0; i-- {
			if email[i] == '.' {
				lastDot = i
				break
			}
		}
		for i := 0; i < len(email); i++ {
			c := email[i]
			switch {
			case c == '@':
				inDomain, upNext = true, true
			case c == '.' || c == '_':
				upNext = true
			case inDomain && i > lastDot && lastDot >= 0:
				c = upper(c)
			case upNext:
				c = upper(c)
				upNext = false
			}
			b = append(b, c)
		}
		b = append(b, ' ')
	case x < 11:
		for i := 0; i < len(email); i++ {
			b = append(b, upper(email[i]))
		}
	case x < 15:
		b = append(b, email...)
		b = append(b, ' ')
	default:
		b = append(b, email...)
	}
	return append(b, '"')
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 32
	}
	return c
}

// appendPhone appends the person's phone number in one of the formats people and forms use.
func (g *gen) appendPhone(b []byte) []byte {
	p := &g.p
	n := p.phone[:p.phoneLen]
	b = append(b, '"')
	f := g.r.IntN(6)
	switch p.country {
	case cUS: // 4155550134
		switch f {
		case 0:
			b = append(b, "+1 "...)
			b = append(b, n[:3]...)
			b = append(b, '-')
			b = append(b, n[3:6]...)
			b = append(b, '-')
			b = append(b, n[6:]...)
		case 1:
			b = append(b, '(')
			b = append(b, n[:3]...)
			b = append(b, ") "...)
			b = append(b, n[3:6]...)
			b = append(b, ' ')
			b = append(b, n[6:]...)
		case 2:
			b = append(b, n...)
		case 3:
			b = append(b, "+1"...)
			b = append(b, n...)
		case 4:
			b = append(b, n[:3]...)
			b = append(b, '.')
			b = append(b, n[3:6]...)
			b = append(b, '.')
			b = append(b, n[6:]...)
		default:
			b = append(b, "1 ("...)
			b = append(b, n[:3]...)
			b = append(b, ") "...)
			b = append(b, n[3:6]...)
			b = append(b, '-')
			b = append(b, n[6:]...)
		}
	case cUK: // 7700900123
		switch f {
		case 0:
			b = append(b, "+44 "...)
			b = append(b, n[:4]...)
			b = append(b, ' ')
			b = append(b, n[4:]...)
		case 1:
			b = append(b, '0')
			b = append(b, n[:4]...)
			b = append(b, ' ')
			b = append(b, n[4:]...)
		case 2:
			b = append(b, "+44"...)
			b = append(b, n...)
		case 3:
			b = append(b, '0')
			b = append(b, n...)
		case 4:
			b = append(b, "0044 "...)
			b = append(b, n[:4]...)
			b = append(b, ' ')
			b = append(b, n[4:7]...)
			b = append(b, ' ')
			b = append(b, n[7:]...)
		default:
			b = append(b, "+44 (0)"...)
			b = append(b, n[:4]...)
			b = append(b, ' ')
			b = append(b, n[4:]...)
		}
	case cDE: // 15123456789
		switch f % 4 {
		case 0:
			b = append(b, "+49 "...)
			b = append(b, n[:3]...)
			b = append(b, ' ')
			b = append(b, n[3:]...)
		case 1:
			b = append(b, '0')
			b = append(b, n[:3]...)
			b = append(b, ' ')
			b = append(b, n[3:]...)
		case 2:
			b = append(b, "+49"...)
			b = append(b, n...)
		default:
			b = append(b, '0')
			b = append(b, n...)
		}
	default: // FR 612345678
		switch f % 4 {
		case 0:
			b = append(b, "+33 "...)
			b = append(b, n[0])
			for i := 1; i < len(n); i += 2 {
				b = append(b, ' ', n[i], n[i+1])
			}
		case 1:
			b = append(b, '0', n[0])
			for i := 1; i < len(n); i += 2 {
				b = append(b, ' ', n[i], n[i+1])
			}
		case 2:
			b = append(b, "+33"...)
			b = append(b, n...)
		default:
			b = append(b, '0')
			b = append(b, n...)
		}
	}
	return append(b, '"')
}

// identify emits an identify call; what it carries depends on the moment.
func (g *gen) identify(d *device, t int64, kind int) {
	p := &g.p
	r := g.r
	g.head(d, t, "identify", "", "")
	withConsent := kind == idSignup || kind == idConsent || (kind == idLogin && r.IntN(100) < 20)
	ctxConsent := p.consent == 2 && withConsent
	g.context(d, ctxConsent)
	b := append(g.buf, `,"traits":{`...)
	n := 0 // fields written
	sep := func() {
		if n > 0 {
			b = append(b, ',')
		}
		n++
	}
	email := p.email
	if p.workEmail != "" && r.IntN(100) < 30 {
		email = p.workEmail
	}
	withEmail, withName, withPhone, withPlan := false, false, false, false
	switch kind {
	case idSignup:
		withEmail, withName, withPlan = true, true, true
		withPhone = p.hasPhone && r.IntN(100) < 60
	case idLogin:
		x := r.IntN(100)
		withEmail = x < 80
		withName = x >= 60 && x < 80
		withPlan = withName
		withPhone = p.hasPhone && r.IntN(100) < 25
	case idNewsletter:
		withEmail = true
		if p.testEmail {
			email = placeholderEmail
		}
	case idGuest:
		withEmail, withName = true, true
		withPhone = p.hasPhone && r.IntN(100) < 45
		if p.testEmail && r.IntN(2) == 0 {
			email = placeholderEmail
		}
	case idConsent:
		withEmail = r.IntN(2) == 0
	}
	if withEmail {
		sep()
		b = append(b, `"email":`...)
		b = g.appendEmail(b, email)
	}
	if withName {
		sep()
		b = append(b, `"first_name":`...)
		b = appendString(b, firstNames[p.first].display)
		b = appendKV(b, "last_name", lastNames[p.last].display)
	}
	if withPhone {
		sep()
		b = append(b, `"phone":`...)
		b = g.appendPhone(b)
	}
	if withPlan {
		sep()
		b = append(b, `"plan":"`...)
		b = append(b, plans[p.plan]...)
		b = append(b, '"')
	}
	if kind == idSignup {
		sep()
		b = append(b, `"created_at":"`...)
		b = appendTime(b, t)
		b = append(b, '"')
	}
	if p.consent == 1 && withConsent {
		sep()
		b = append(b, `"consent":{"marketing":`...)
		b = strconv.AppendBool(b, p.marketing)
		b = append(b, `,"analytics":true}`...)
	}
	g.buf = append(b, '}')
	g.tail()
}

func (g *gen) signedUp(d *device, t int64) {
	g.head(d, t, "track", "event", "Signed Up")
	g.context(d, false)
	methods := [...]string{"email", "email", "google", "apple"}
	b := append(g.buf, `,"properties":{"method":"`...)
	b = append(b, methods[g.r.IntN(len(methods))]...)
	b = append(b, `","plan":"`...)
	b = append(b, plans[g.p.plan]...)
	g.buf = append(b, '"', '}')
	g.tail()
}

// alias ties the device's anonymousId to the new userId (analytics.alias(userId)).
func (g *gen) alias(d *device, t int64) {
	g.head(d, t, "alias", "", "")
	b := append(g.buf, `,"previousId":`...)
	g.buf = appendString(b, d.anonID)
	g.context(d, false)
	g.tail()
}

func (g *gen) emailSubscribed(d *device, t int64) {
	g.head(d, t, "track", "event", "Email Subscribed")
	g.context(d, false)
	sources := [...]string{"footer", "popup", "checkout"}
	b := append(g.buf, `,"properties":{"list_id":"weekly_digest","list_name":"Weekly Digest","source":"`...)
	b = append(b, sources[g.r.IntN(len(sources))]...)
	g.buf = append(b, '"', '}')
	g.tail()
}

func (g *gen) group(d *device, t int64) {
	p := &g.p
	c := &companies[p.company]
	g.head(d, t, "group", "groupId", p.groupID)
	g.context(d, false)
	b := append(g.buf, `,"traits":{"name":`...)
	b = appendString(b, c.name)
	b = appendKV(b, "industry", c.industry)
	b = append(b, `,"employees":`...)
	b = strconv.AppendInt(b, int64(10+len(c.name)*37), 10)
	b = append(b, `,"plan":"business","website":"https://`...)
	b = append(b, c.domain...)
	g.buf = append(b, '"', '}')
	g.tail()
}
