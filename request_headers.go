package vial

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is werkzeug's parsing of the request headers a view asks
// about: Authorization, the Accept headers, the conditional headers
// (If-Modified-Since, If-None-Match …), Range, and the client's address,
// agent and referrer. Each is parsed when asked for, from Request.Header;
// malformed input gives the zero answer (nil, false, an empty list), never a
// panic or an error, as werkzeug's parsers give None.

// Authorization is a parsed Authorization header, werkzeug's Authorization.
type Authorization struct {
	// Type is the scheme, lower-case: "basic", "bearer", "digest".
	Type string
	// Username and Password are a Basic header's credentials.
	Username, Password string
	// Token is the credential of a scheme without parameters ("bearer").
	Token string
	// Parameters are the key=value pairs of a scheme that has them
	// ("digest"); nil otherwise.
	Parameters map[string]string
}

// Authorization returns the parsed Authorization header: for Basic, the
// username and password; for a scheme followed by one token (Bearer), the
// token; otherwise the parameters. It returns nil when the header is absent
// or a Basic one does not decode (bad base64, not UTF-8).
func (r *Request) Authorization() *Authorization {
	v := r.Header.Get("Authorization")
	if v == "" {
		return nil
	}
	scheme, rest, _ := strings.Cut(v, " ")
	a := &Authorization{Type: strings.ToLower(scheme)}
	rest = strings.TrimSpace(rest)
	if a.Type == "basic" {
		b, ok := pythonB64Decode(rest)
		if !ok || !utf8.Valid(b) {
			return nil
		}
		a.Username, a.Password, _ = strings.Cut(string(b), ":")
		return a
	}
	if strings.Contains(strings.TrimRight(rest, "="), "=") {
		a.Parameters = parseDictHeader(rest)
		return a
	}
	a.Token = rest
	return a
}

// pythonB64Decode decodes base64 as Python's b64decode (binascii's
// a2b_base64, not strict), which werkzeug uses for Basic credentials:
// characters outside the alphabet are skipped, "=" where no padding is due
// is skipped, and the padding that completes a quad ends the data.
func pythonB64Decode(s string) ([]byte, bool) {
	data := make([]byte, 0, len(s))
	quad, pads, padded := 0, 0, false
	for i := 0; i < len(s) && !padded; i++ {
		c := s[i]
		if c == '=' {
			pads++
			padded = quad >= 2 && quad+pads >= 4
			continue
		}
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			continue
		}
		data = append(data, c)
		quad, pads = (quad+1)%4, 0
	}
	if quad != 0 && !padded {
		return nil, false
	}
	b, err := base64.RawStdEncoding.DecodeString(string(data))
	return b, err == nil
}

// parseListHeader splits a comma-separated header into its items, quotes
// removed from items that are one quoted string, empty items dropped:
// werkzeug's parse_list_header. An unclosed quote gives no items.
func parseListHeader(v string) []string {
	var items []string
	var item strings.Builder
	escape, quote := false, false
	for _, c := range v {
		switch {
		case escape:
			escape = false
		case quote && c == '\\':
			escape = true
		case quote && c == '"':
			quote = false
		case quote:
		case c == ',':
			items = append(items, item.String())
			item.Reset()
			continue
		case c == '"':
			quote = true
		}
		item.WriteRune(c)
	}
	if quote {
		return nil
	}
	items = append(items, item.String())
	out := items[:0]
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, unquoteHeaderValue(it))
		}
	}
	return out
}

var unslash = regexp.MustCompile(`\\(.)`)

// unquoteHeaderValue removes the quotes and backslash escapes of a quoted
// string.
func unquoteHeaderValue(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return unslash.ReplaceAllString(v[1:len(v)-1], "$1")
	}
	return v
}

// parseDictHeader parses "a=1, b="x y"" (werkzeug's parse_dict_header,
// without RFC 2231 encoded values); a key without a value maps to "".
func parseDictHeader(v string) map[string]string {
	m := map[string]string{}
	for _, it := range parseListHeader(v) {
		k, val, _ := strings.Cut(it, "=")
		if k = strings.TrimSpace(k); k != "" {
			m[k] = unquoteHeaderValue(strings.TrimSpace(val))
		}
	}
	return m
}

// UserAgent returns the User-Agent header, "" when absent (werkzeug's
// user_agent.string).
func (r *Request) UserAgent() string { return r.Header.Get("User-Agent") }

// Referrer returns the Referer header, "" when absent.
func (r *Request) Referrer() string { return r.Header.Get("Referer") }

// AccessRoute returns the client's address and the proxies it came
// through, as werkzeug's access_route: the items of X-Forwarded-For when
// the header is present (client first), otherwise the remote address. The
// header is the client's to write: trust it only behind a proxy that sets
// it.
func (r *Request) AccessRoute() []string {
	if vs, ok := r.Header["X-Forwarded-For"]; ok {
		return parseListHeader(strings.Join(vs, ","))
	}
	if r.RemoteAddr != "" {
		return []string{r.RemoteAddr}
	}
	return nil
}

// IfModifiedSince returns the If-Modified-Since date, in UTC; false when
// the header is absent or not a date.
func (r *Request) IfModifiedSince() (time.Time, bool) {
	return parseHTTPDate(r.Header.Get("If-Modified-Since"))
}

// IfUnmodifiedSince returns the If-Unmodified-Since date, in UTC; false
// when the header is absent or not a date.
func (r *Request) IfUnmodifiedSince() (time.Time, bool) {
	return parseHTTPDate(r.Header.Get("If-Unmodified-Since"))
}

// httpDateLayouts are the date formats HTTP has used (RFC 9110 §5.6.7)
// and RFC 2822's with a numeric zone, which werkzeug's parse_date reads.
var httpDateLayouts = []string{http.TimeFormat, time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC,
	"Mon, _2 Jan 2006 15:04:05 MST", "_2 Jan 2006 15:04:05 MST", "_2 Jan 2006 15:04:05 -0700",
	"Mon, _2 Jan 2006 15:04:05", "_2 Jan 2006 15:04:05"}

// parseHTTPDate parses an HTTP date; a date without a zone is UTC.
func parseHTTPDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	for _, layout := range httpDateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// ETags is a parsed If-Match or If-None-Match header: werkzeug's ETags.
// The zero value is an absent header.
type ETags struct {
	// Strong and Weak are the tags, unquoted; a weak one was sent W/"…".
	Strong, Weak []string
	// Star is set for "*", which matches any tag.
	Star bool
}

// IsEmpty reports whether the header held no tag (it was absent).
func (e ETags) IsEmpty() bool { return !e.Star && len(e.Strong) == 0 && len(e.Weak) == 0 }

// Contains reports whether tag (unquoted) is one of the strong tags, or
// the header is "*": werkzeug's contains, the strong comparison.
func (e ETags) Contains(tag string) bool { return e.Star || slices.Contains(e.Strong, tag) }

// ContainsWeak reports whether tag (unquoted) is one of the tags, strong
// or weak, or the header is "*": the weak comparison.
func (e ETags) ContainsWeak(tag string) bool { return e.Contains(tag) || slices.Contains(e.Weak, tag) }

// IfMatch returns the If-Match header's tags.
func (r *Request) IfMatch() ETags { return parseETags(r.Header.Get("If-Match")) }

// IfNoneMatch returns the If-None-Match header's tags.
func (r *Request) IfNoneMatch() ETags { return parseETags(r.Header.Get("If-None-Match")) }

var etagItem = regexp.MustCompile(`^([Ww]/)?(?:"(.*?)"|(.*?))(?:\s*,\s*|$)`)

// parseETags is werkzeug's parse_etags.
func parseETags(v string) ETags {
	var e ETags
	for pos := 0; pos < len(v); {
		m := etagItem.FindStringSubmatchIndex(v[pos:])
		if m == nil || m[1] == 0 {
			break
		}
		tag := ""
		if m[6] >= 0 {
			tag = v[pos+m[6] : pos+m[7]]
			if tag == "*" {
				return ETags{Star: true}
			}
		}
		if m[4] >= 0 && m[5] > m[4] {
			tag = v[pos+m[4] : pos+m[5]]
		}
		if m[2] >= 0 {
			e.Weak = append(e.Weak, tag)
		} else {
			e.Strong = append(e.Strong, tag)
		}
		pos += m[1]
	}
	return e
}

// A Range is a parsed Range header, werkzeug's Range.
type Range struct {
	// Units is the unit, lower-case: "bytes".
	Units string
	// Ranges are the ranges asked for, in order.
	Ranges []ByteRange
}

// A ByteRange is one range of a Range header, its End exclusive: bytes=0-499
// is {0, 500}. An open range (bytes=500-) has End -1; a suffix range
// (bytes=-500, the last 500 bytes) has a negative Start and End -1.
type ByteRange struct {
	Start, End int64
}

// Range returns the parsed Range header; nil when it is absent or
// malformed (a range that ends before it starts, ranges out of order or
// overlapping, a suffix range after an open one), as werkzeug's
// parse_range_header.
func (r *Request) Range() *Range { return parseRange(r.Header.Get("Range")) }

func parseRange(v string) *Range {
	units, spec, ok := strings.Cut(v, "=")
	if !ok {
		return nil
	}
	rg := &Range{Units: strings.ToLower(strings.TrimSpace(units))}
	var lastEnd int64
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		begin, end, ok := strings.Cut(item, "-")
		if !ok {
			return nil
		}
		if begin == "" { // a suffix range
			n, ok := plainInt(item)
			if !ok || lastEnd < 0 {
				return nil
			}
			rg.Ranges = append(rg.Ranges, ByteRange{n, -1})
			lastEnd = -1
			continue
		}
		b, ok := plainInt(begin)
		if !ok || b < lastEnd || lastEnd < 0 {
			return nil
		}
		e := int64(-1)
		if end = strings.TrimSpace(end); end != "" {
			if e, ok = plainInt(end); !ok || b >= e+1 {
				return nil
			}
			e++
		}
		rg.Ranges = append(rg.Ranges, ByteRange{b, e})
		lastEnd = e
	}
	return rg
}

// plainInt parses "-?[0-9]+" (werkzeug's _plain_int), spaces around it
// allowed.
func plainInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// ForLength returns the byte range [start, end) that r asks for of a body
// of length n: werkzeug's range_for_length. ok is false unless r is one
// bytes range that n satisfies; an end past n is cut to n, and a suffix
// range longer than n is the whole body, as RFC 9110 §14.1.3 says (where
// werkzeug finds it unsatisfiable).
func (r *Range) ForLength(n int64) (start, end int64, ok bool) {
	if r == nil || r.Units != "bytes" || len(r.Ranges) != 1 || n < 0 {
		return 0, 0, false
	}
	start, end = r.Ranges[0].Start, r.Ranges[0].End
	if end < 0 {
		end = n
		if start < 0 { // the last -start bytes, all of them if the body is shorter
			start = max(start+n, 0)
		}
	}
	if start < 0 || start >= end || start >= n {
		return 0, 0, false
	}
	return start, min(end, n), true
}

// ContentRange returns the Content-Range header answering r for a body of
// length n ("bytes 0-499/1234"); "" when [Range.ForLength] is not ok.
func (r *Range) ContentRange(n int64) string {
	start, end, ok := r.ForLength(n)
	if !ok {
		return ""
	}
	return r.Units + " " + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end-1, 10) + "/" + strconv.FormatInt(n, 10)
}

// An Accept is a parsed Accept, Accept-Language, Accept-Encoding or
// Accept-Charset header: werkzeug's Accept and its MIMEAccept,
// LanguageAccept and CharsetAccept. Its values are sorted as werkzeug
// sorts them: the most specific first ("text/html" before "text/*" before
// "*/*"), then by quality, the header's order kept among equals.
type Accept struct {
	// Values are the header's values, sorted.
	Values []AcceptValue
	// Provided is false when the header was absent (or empty).
	Provided bool

	kind acceptKind
}

// An AcceptValue is one value of an Accept header and its quality (the
// q parameter, 1 when absent). A mimetype's other parameters stay in
// Value: "text/html; level=1".
type AcceptValue struct {
	Value   string
	Quality float64
}

type acceptKind uint8

const (
	acceptPlain acceptKind = iota
	acceptMIME
	acceptLanguage
	acceptCharset
)

// AcceptMimetypes returns the Accept header (werkzeug's accept_mimetypes).
func (r *Request) AcceptMimetypes() *Accept { return r.accept("Accept", acceptMIME) }

// AcceptLanguages returns the Accept-Language header.
func (r *Request) AcceptLanguages() *Accept { return r.accept("Accept-Language", acceptLanguage) }

// AcceptEncodings returns the Accept-Encoding header.
func (r *Request) AcceptEncodings() *Accept { return r.accept("Accept-Encoding", acceptPlain) }

// AcceptCharsets returns the Accept-Charset header.
func (r *Request) AcceptCharsets() *Accept { return r.accept("Accept-Charset", acceptCharset) }

func (r *Request) accept(name string, kind acceptKind) *Accept {
	return parseAccept(strings.Join(r.Header.Values(name), ","), kind)
}

var qValue = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// parseAccept is werkzeug's parse_accept_header: an item whose q is not a
// number from 0 to 1 is skipped.
func parseAccept(v string, kind acceptKind) *Accept {
	a := &Accept{kind: kind}
	if v == "" {
		return a
	}
	a.Provided = true
	for _, item := range parseListHeader(v) {
		value, params := parseOptions(item)
		q := 1.0
		if i := slices.IndexFunc(params, func(p [2]string) bool { return p[0] == "q" }); i >= 0 {
			qs := strings.TrimSpace(params[i][1])
			params = slices.Delete(params, i, i+1)
			f, err := strconv.ParseFloat(qs, 64)
			if !qValue.MatchString(qs) || err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		for _, p := range params {
			value += "; " + p[0] + "=" + quoteHeaderValue(p[1])
		}
		a.Values = append(a.Values, AcceptValue{value, q})
	}
	slices.SortStableFunc(a.Values, func(x, y AcceptValue) int {
		if c := compareSpecificity(a.specificity(y.Value), a.specificity(x.Value)); c != 0 {
			return c
		}
		switch {
		case x.Quality > y.Quality:
			return -1
		case x.Quality < y.Quality:
			return 1
		}
		return 0
	})
	return a
}

// parseOptions splits "text/html; level=1; q=0.5" into its value and its
// key=value parameters, keys lower-cased, quoted values unquoted; what is
// not a parameter is skipped (werkzeug's parse_options_header, without
// RFC 2231's encoded values).
func parseOptions(item string) (string, [][2]string) {
	value, rest, _ := strings.Cut(item, ";")
	value = strings.TrimSpace(value)
	var params [][2]string
	for {
		rest = strings.TrimLeft(rest, " \t")
		if m := paramKey.FindStringSubmatch(rest); m != nil {
			k := strings.ToLower(m[1])
			rest = rest[len(m[0]):]
			if tok := paramToken.FindString(rest); tok != "" {
				params = append(params, [2]string{k, tok})
			} else if q := quotedString.FindString(rest); q != "" {
				rest = rest[len(q):]
				q = strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(q[1 : len(q)-1])
				params = append(params, [2]string{k, q})
			}
		}
		i := strings.IndexByte(rest, ';')
		if i < 0 {
			return value, params
		}
		rest = rest[i+1:]
	}
}

var (
	paramKey     = regexp.MustCompile("^([\\w!#$%&'*+\\-.^`|~]+)=")
	paramToken   = regexp.MustCompile("^[\\w!#$%&'*+\\-.^`|~]+")
	quotedString = regexp.MustCompile(`^"(?:\\\\|\\"|[^"])*?"`)
)

// quoteHeaderValue quotes v unless it is a token (werkzeug's
// quote_header_value).
func quoteHeaderValue(v string) string {
	if v != "" && paramToken.FindString(v) == v && !strings.ContainsAny(v, "\\") {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// specificity is werkzeug's _specificity: for a mimetype, whether each
// part (type, subtype, parameters) is other than "*"; for the other
// headers, whether the value is other than "*".
func (a *Accept) specificity(v string) []bool {
	if a.kind != acceptMIME {
		return []bool{v != "*"}
	}
	parts := mimeSplit.Split(v, -1)
	s := make([]bool, len(parts))
	for i, p := range parts {
		s[i] = p != "*"
	}
	return s
}

var mimeSplit = regexp.MustCompile(`/|(?:\s*;\s*)`)

// compareSpecificity compares as Python compares tuples of bools.
func compareSpecificity(x, y []bool) int {
	for i := range min(len(x), len(y)) {
		if x[i] != y[i] {
			if x[i] {
				return 1
			}
			return -1
		}
	}
	return len(x) - len(y)
}

// Quality returns the quality the client gives value: that of the first
// (most specific) of its values that matches value, 0 when none does.
// Matching follows the header: for mimetypes "text/*" and "*/*" match
// "text/html", for languages "en_US" is "en-us", for charsets "UTF8" is
// "utf-8"; "*" matches anything.
func (a *Accept) Quality(value string) float64 {
	if v, ok := a.bestSingle(value); ok {
		return v.Quality
	}
	return 0
}

// Best returns the client's most preferred value, "" when it sent none.
func (a *Accept) Best() string {
	if len(a.Values) == 0 {
		return ""
	}
	return a.Values[0].Value
}

func (a *Accept) bestSingle(offer string) (AcceptValue, bool) {
	for _, v := range a.Values {
		if a.matches(offer, v.Value) {
			return v, true
		}
	}
	return AcceptValue{}, false
}

// BestMatch returns the offer the client prefers: the one of highest
// quality, the more specific match winning a tie, then the earlier offer;
// "" when the client accepts none of them, or sent no header (werkzeug's
// best_match with no default). For languages, when no offer matches
// exactly, "en" matches a client's "en-US", and then "en-US" a client's
// "en", as werkzeug's LanguageAccept falls back. An offer that is not a
// mimetype ("html") never matches a mimetype.
func (a *Accept) BestMatch(offers ...string) string {
	best := a.bestMatch(offers)
	if best != "" || a.kind != acceptLanguage {
		return best
	}
	primary := &Accept{kind: acceptPlain}
	for _, v := range a.Values {
		primary.Values = append(primary.Values, AcceptValue{primaryTag(v.Value), v.Quality})
	}
	if best = primary.bestMatch(offers); best != "" {
		return best
	}
	prims := make([]string, len(offers))
	for i, o := range offers {
		prims[i] = primaryTag(o)
	}
	if best = a.bestMatch(prims); best != "" {
		for _, o := range offers {
			if strings.HasPrefix(o, best) {
				return o
			}
		}
	}
	return ""
}

func primaryTag(tag string) string {
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		return tag[:i]
	}
	return tag
}

func (a *Accept) bestMatch(offers []string) string {
	// werkzeug starts from a specificity below any, so the first match
	// with a positive quality is taken.
	result, bestQ, bestSpec := "", -1.0, []bool(nil)
	for _, offer := range offers {
		v, ok := a.bestSingle(offer)
		if !ok || v.Quality <= 0 || v.Quality < bestQ {
			continue
		}
		spec := a.specificity(v.Value)
		if v.Quality > bestQ || compareSpecificity(spec, bestSpec) > 0 {
			result, bestQ, bestSpec = offer, v.Quality, spec
		}
	}
	return result
}

// matches is werkzeug's _value_matches: whether the client's item
// accepts the server's value.
func (a *Accept) matches(value, item string) bool {
	switch a.kind {
	case acceptMIME:
		return mimeMatches(value, item)
	case acceptLanguage:
		return item == "*" || slices.Equal(langSplit.Split(strings.ToLower(value), -1), langSplit.Split(strings.ToLower(item), -1))
	case acceptCharset:
		return item == "*" || normalizeCharset(value) == normalizeCharset(item)
	}
	return item == "*" || strings.EqualFold(item, value)
}

var langSplit = regexp.MustCompile(`[_-]`)

// mimeMatches is MIMEAccept's _value_matches; a value that is not a
// mimetype matches nothing, where werkzeug raises ValueError.
func mimeMatches(value, item string) bool {
	if !strings.Contains(item, "/") || !strings.Contains(value, "/") {
		return false
	}
	v := mimeSplit.Split(strings.ToLower(value), -1)
	if v[0] == "*" && v[1] != "*" {
		return false
	}
	it := mimeSplit.Split(strings.ToLower(item), -1)
	if it[0] == "*" && it[1] != "*" {
		return false
	}
	if it[0] == "*" || v[0] == "*" {
		return true
	}
	vp, ip := slices.Sorted(slices.Values(v[2:])), slices.Sorted(slices.Values(it[2:]))
	return it[0] == v[0] && (it[1] == "*" || v[1] == "*" || it[1] == v[1] && slices.Equal(vp, ip))
}

// normalizeCharset approximates Python's codecs.lookup(name).name, which
// werkzeug's CharsetAccept compares: case, "-", "_" and spaces ignored, and
// the common aliases of Latin-1 and ASCII.
func normalizeCharset(name string) string {
	n := strings.Map(func(c rune) rune {
		if c == '-' || c == '_' || c == ' ' {
			return -1
		}
		return c
	}, strings.ToLower(name))
	switch n {
	case "latin1", "latin", "l1", "iso88591", "8859", "cp819", "iso8859":
		return "iso88591"
	case "usascii", "ascii", "646":
		return "ascii"
	case "utf", "utf8", "u8", "cp65001":
		return "utf8"
	}
	return n
}
