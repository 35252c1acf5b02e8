package generate

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Static vocabulary of the synthetic shop ("Northwind Outfitters"). None of it depends on the
// seed: the shop is the same, only its visitors change.

const (
	siteURL   = "https://shop.northwind.example"
	siteTitle = " | Northwind Outfitters"
	appName   = "Northwind"
	appNS     = "com.northwind.shop"
)

type name struct{ display, ascii string }

var firstNames = []name{
	{"Jane", "jane"}, {"John", "john"}, {"Maria", "maria"}, {"James", "james"}, {"Olivia", "olivia"},
	{"Liam", "liam"}, {"Emma", "emma"}, {"Noah", "noah"}, {"Ava", "ava"}, {"Lucas", "lucas"},
	{"Sophia", "sophia"}, {"Mia", "mia"}, {"Ethan", "ethan"}, {"Amelia", "amelia"}, {"Mateo", "mateo"},
	{"Charlotte", "charlotte"}, {"Oliver", "oliver"}, {"Isla", "isla"}, {"Harry", "harry"}, {"Freya", "freya"},
	{"José", "jose"}, {"Zoë", "zoe"}, {"Renée", "renee"}, {"Søren", "soren"}, {"Łukasz", "lukasz"},
	{"François", "francois"}, {"Jürgen", "juergen"}, {"Anaïs", "anais"}, {"Chloé", "chloe"}, {"Björn", "bjorn"},
	{"Priya", "priya"}, {"Arjun", "arjun"}, {"Wei", "wei"}, {"Yuki", "yuki"}, {"Aisha", "aisha"},
	{"Omar", "omar"}, {"Fatima", "fatima"}, {"Kwame", "kwame"}, {"Ngozi", "ngozi"}, {"Diego", "diego"},
	{"Lena", "lena"}, {"Max", "max"}, {"Hannah", "hannah"}, {"Felix", "felix"}, {"Léa", "lea"},
	{"Hugo", "hugo"}, {"Camille", "camille"}, {"Louis", "louis"}, {"Grace", "grace"}, {"Jack", "jack"},
}

var lastNames = []name{
	{"Doe", "doe"}, {"Smith", "smith"}, {"Johnson", "johnson"}, {"Williams", "williams"}, {"Brown", "brown"},
	{"Garcia", "garcia"}, {"Miller", "miller"}, {"Davis", "davis"}, {"Martinez", "martinez"}, {"Lopez", "lopez"},
	{"Wilson", "wilson"}, {"Taylor", "taylor"}, {"Thomas", "thomas"}, {"Moore", "moore"}, {"Jackson", "jackson"},
	{"O'Brien", "obrien"}, {"McDonald", "mcdonald"}, {"Müller", "mueller"}, {"Schmidt", "schmidt"}, {"Schneider", "schneider"},
	{"Fischer", "fischer"}, {"Weber", "weber"}, {"Dubois", "dubois"}, {"Lefèvre", "lefevre"}, {"Moreau", "moreau"},
	{"García Márquez", "garciamarquez"}, {"Nguyễn", "nguyen"}, {"Kowalski", "kowalski"}, {"Andersen", "andersen"}, {"Jensen", "jensen"},
	{"Patel", "patel"}, {"Sharma", "sharma"}, {"Chen", "chen"}, {"Wang", "wang"}, {"Tanaka", "tanaka"},
	{"Okafor", "okafor"}, {"Mensah", "mensah"}, {"Haddad", "haddad"}, {"Rossi", "rossi"}, {"Bianchi", "bianchi"},
	{"Evans", "evans"}, {"Hughes", "hughes"}, {"Walsh", "walsh"}, {"Murphy", "murphy"}, {"Kelly", "kelly"},
	{"van der Berg", "vanderberg"}, {"de Vries", "devries"}, {"Novak", "novak"}, {"Horvat", "horvat"}, {"Smith-Jones", "smithjones"},
}

var mailDomains = []string{
	"gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com",
	"proton.me", "aol.com", "hotmail.co.uk", "gmx.de", "web.de", "orange.fr", "free.fr",
}

var companies = []struct{ name, domain, industry string }{
	{"Acme Corp", "acme.example", "Manufacturing"},
	{"Globex", "globex.example", "Energy"},
	{"Initech", "initech.example", "Software"},
	{"Umbrella Health", "umbrella.example", "Healthcare"},
	{"Stark Outdoor Co", "starkoutdoor.example", "Retail"},
	{"Wayne Logistics", "waynelogistics.example", "Logistics"},
	{"Hooli", "hooli.example", "Software"},
	{"Vandelay Industries", "vandelay.example", "Import/Export"},
	{"Soylent Foods", "soylent.example", "Food & Beverage"},
	{"Tyrell Systems", "tyrell.example", "Robotics"},
	{"Cyberdyne", "cyberdyne.example", "Defense"},
	{"Wonka Sweets", "wonka.example", "Food & Beverage"},
}

var plans = []string{"free", "free", "free", "plus", "plus", "pro"}

// Countries drive locale, phone numbering, currency and timezone.
const (
	cUS = iota
	cUK
	cDE
	cFR
)

var locales = [...]string{cUS: "en-US", cUK: "en-GB", cDE: "de-DE", cFR: "fr-FR"}
var timezones = [...]string{cUS: "America/Los_Angeles", cUK: "Europe/London", cDE: "Europe/Berlin", cFR: "Europe/Paris"}
var currencies = [...]string{cUS: "USD", cUK: "GBP", cDE: "EUR", cFR: "EUR"}
var usAreaCodes = []string{"415", "212", "312", "646", "206", "512", "617", "303", "213", "702"}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
}

var ajsVersions = []string{"next-1.70.0", "next-1.72.1", "next-1.74.0", "4.1.0"}

type mobileModel struct {
	manufacturer, model, typ, osName string
	osVersions                       []string
}

var mobileModels = []mobileModel{
	{"Apple", "iPhone15,2", "ios", "iOS", []string{"17.6.1", "18.0.1", "18.1"}},
	{"Apple", "iPhone16,1", "ios", "iOS", []string{"18.0.1", "18.1"}},
	{"Apple", "iPhone14,5", "ios", "iOS", []string{"16.7.10", "17.6.1", "18.1"}},
	{"samsung", "SM-S911B", "android", "Android", []string{"14", "15"}},
	{"Google", "Pixel 8", "android", "Android", []string{"14", "15"}},
	{"Xiaomi", "23049PCD8G", "android", "Android", []string{"13", "14"}},
}

var appVersions = []struct{ version, build string }{
	{"4.10.2", "4102"}, {"4.11.0", "4110"}, {"4.12.1", "4121"},
}

var externalReferrers = []string{
	"https://www.google.com/", "https://www.google.com/", "https://www.google.co.uk/", "https://www.bing.com/",
	"https://duckduckgo.com/", "https://www.facebook.com/", "https://l.instagram.com/", "https://t.co/",
	"https://www.pinterest.com/", "https://www.reddit.com/",
}

type campaign struct{ source, medium, name, term, content string }

var campaigns = []campaign{
	{"google", "cpc", "fall_sale_2026", "hiking boots", "text_ad_1"},
	{"google", "cpc", "brand_search", "northwind", ""},
	{"facebook", "paid_social", "retargeting_q4", "", "carousel_b"},
	{"instagram", "paid_social", "new_arrivals", "", "story_3"},
	{"newsletter", "email", "weekly_digest_41", "", "hero_cta"},
	{"newsletter", "email", "abandoned_cart", "", ""},
	{"tiktok", "paid_social", "gen_z_outdoor", "", "video_12"},
}

var searchTerms = []string{"boots", "rain jacket", "tent", "gift", "socks", "headlamp", "kids", "sale", "merino", "backpack 30l"}

var blogPosts = []struct{ slug, title string }{
	{"how-to-choose-hiking-boots", "How to choose hiking boots"},
	{"layering-101", "Layering 101"},
	{"best-trails-2026", "The best trails of 2026"},
	{"care-guide-down-jackets", "Caring for your down jacket"},
}

type product struct {
	id, sku, name, slug string
	category            int
	cents               int64
}

var categories = []struct{ name, slug string }{
	{"Footwear", "footwear"}, {"Jackets", "jackets"}, {"Camping", "camping"}, {"Backpacks", "backpacks"},
	{"Accessories", "accessories"}, {"Base Layers", "base-layers"}, {"Kids", "kids"}, {"Home & Cabin", "home-cabin"},
}

var catalog = buildCatalog()

func buildCatalog() []product {
	adjectives := []string{"Trail", "Summit", "Ridge", "Alpine", "Coastal", "Canyon", "Glacier", "Forest", "Meadow", "Tundra", "Harbor", "Prairie"}
	nouns := [][]string{
		{"Runner", "Hiker Mid", "Approach Shoe", "Sandal", "Winter Boot"},
		{"Rain Shell", "Down Parka", "Fleece", "Softshell", "Windbreaker"},
		{"2P Tent", "Sleeping Bag", "Camp Stove", "Hammock", "Lantern"},
		{"Daypack 22L", "Pack 45L", "Hip Pack", "Duffel 60L", "Hydration Vest"},
		{"Beanie", "Headlamp", "Trekking Poles", "Sunglasses", "Water Bottle"},
		{"Merino Tee", "Base Tights", "Half-Zip", "Crew Socks", "Liner Gloves"},
		{"Kids Rain Jacket", "Kids Boot", "Kids Fleece", "Kids Backpack", "Kids Beanie"},
		{"Wool Blanket", "Enamel Mug", "Cabin Candle", "Camp Chair", "Cast Iron Pan"},
	}
	basePrice := []float64{120, 180, 150, 90, 30, 60, 45, 40}
	r := rand.New(rand.NewPCG(2026, 11))
	var out []product
	n := 0
	for c := range categories {
		for _, noun := range nouns[c] {
			for _, adj := range adjectives[:6] {
				n++
				nm := adj + " " + noun
				price := basePrice[c] * math.Exp(r.NormFloat64()*0.35)
				cents := int64(price)*100 + 99 // shop prices end in .99
				if r.IntN(5) == 0 {
					cents -= 49 // .50
				}
				out = append(out, product{
					id:       "prod_" + strconv.Itoa(1000+n),
					sku:      "NW-" + strings.ToUpper(categories[c].slug[:3]) + "-" + strconv.Itoa(10000+n*7),
					name:     nm,
					slug:     strings.ReplaceAll(strings.ToLower(nm), " ", "-"),
					category: c,
					cents:    cents,
				})
			}
		}
	}
	return out
}

// Placeholder identifiers that real instrumentation sends by mistake.
var placeholderUserIDs = []string{"null", "undefined", "0", "00000000-0000-0000-0000-000000000000"}

const (
	placeholderAnonID = "anonymous"
	placeholderEmail  = "test@test.com"
)
