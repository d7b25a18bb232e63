package serving

import (
	"io"
	"net"
	"strconv"
	"strings"
)

// devWarning is werkzeug's warning, for a server that is not WSGI's.
const devWarning = "WARNING: This is a development server. Do not use it in a production deployment. " +
	"Use a production server instead."

// bannerInfo is what the banner shows.
type bannerInfo struct {
	appName     string
	debugMode   bool
	host        string   // as given: "0.0.0.0", "::" and "" mean every address
	urls        []string // where the server is reachable
	fingerprint string   // of an ad-hoc certificate, or ""
	debugger    bool     // the debugger is on
}

// PrintBanner writes the startup banner to Output, as Flask and werkzeug
// print it:
//
//	$ go run ./examples/hello
//	 * Serving vial app 'hello'
//	 * Debug mode: off
//	WARNING: This is a development server. Do not use it in a production deployment. Use a production server instead.
//	 * Running on http://127.0.0.1:5000
//	Press CTRL+C to quit
//
// The app line is left out when [Options.AppName] is empty. A server bound
// to every address ("0.0.0.0", "::" or "") says so and lists the loopback
// address and each address of the machine's interfaces; a server with an
// ad-hoc certificate adds its SHA-256 fingerprint, and one with the
// debugger ends with " * Debugger is active!", as werkzeug's. On a terminal
// the warning is bold red and "Press CTRL+C to quit" yellow.
func (s *Server) PrintBanner() {
	writeBanner(s.out, s.color, bannerInfo{
		appName:     s.opts.AppName,
		debugMode:   s.opts.DebugMode,
		host:        s.host,
		urls:        s.URLs(),
		fingerprint: s.adhocFingerprint(),
		debugger:    s.opts.UseDebugger,
	})
}

func (s *Server) adhocFingerprint() string {
	if s.opts.AdhocTLS {
		return s.fingerprint
	}
	return ""
}

// URLs returns the URLs the server is reachable at, as the banner lists
// them: the host it was bound to, or, when bound to every address, the
// loopback address and each interface address. The port is the real one.
func (s *Server) URLs() []string {
	return reachableURLs(s.scheme(), s.host, s.ln.Addr())
}

func writeBanner(w io.Writer, color bool, b bannerInfo) {
	var sb strings.Builder
	if b.appName != "" {
		sb.WriteString(" * Serving vial app '" + b.appName + "'\n")
	}
	if b.debugMode {
		sb.WriteString(" * Debug mode: on\n")
	} else {
		sb.WriteString(" * Debug mode: off\n")
	}
	sb.WriteString(ansiStyle(color, devWarning, ansiBold, ansiRed) + "\n")
	if isWildcard(b.host) {
		if b.host == "" {
			sb.WriteString(" * Running on all addresses\n")
		} else {
			sb.WriteString(" * Running on all addresses (" + trimBrackets(b.host) + ")\n")
		}
	}
	for _, u := range b.urls {
		sb.WriteString(" * Running on " + u + "\n")
	}
	if b.fingerprint != "" {
		sb.WriteString(fingerprintLine(b.fingerprint))
	}
	sb.WriteString(ansiStyle(color, "Press CTRL+C to quit", ansiYellow) + "\n")
	if b.debugger {
		sb.WriteString(debuggerLine)
	}
	io.WriteString(w, sb.String())
}

func fingerprintLine(fp string) string {
	return " * Ad-hoc certificate SHA-256 fingerprint: " + fp + "\n"
}

const debuggerLine = " * Debugger is active!\n"

// childLines is what a reloader child prints when it starts: the parts of
// the banner that change with each child.
func (s *Server) childLines() string {
	var lines string
	if fp := s.adhocFingerprint(); fp != "" {
		lines += fingerprintLine(fp)
	}
	if s.opts.UseDebugger {
		lines += debuggerLine
	}
	return lines
}

// isWildcard reports whether host means every address.
func isWildcard(host string) bool {
	switch trimBrackets(host) {
	case "", "0.0.0.0", "::":
		return true
	}
	return false
}

// reachableURLs lists scheme://host:port for each address a server bound to
// host, listening on addr, is reachable at.
func reachableURLs(scheme, host string, addr net.Addr) []string {
	port := ""
	if a, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(a.Port)
	} else {
		_, port, _ = net.SplitHostPort(addr.String())
	}
	var hosts []string
	switch h := trimBrackets(host); h {
	case "0.0.0.0":
		hosts = append([]string{"127.0.0.1"}, interfaceAddrs(true, false)...)
	case "::":
		hosts = append([]string{"::1"}, interfaceAddrs(false, true)...)
	case "":
		hosts = append([]string{"127.0.0.1", "::1"}, interfaceAddrs(true, true)...)
	default:
		hosts = []string{h}
	}
	urls := make([]string, len(hosts))
	for i, h := range hosts {
		urls[i] = scheme + "://" + net.JoinHostPort(h, port)
	}
	return urls
}

// interfaceAddrs returns the addresses of the machine's interfaces that a
// client elsewhere could use: no loopback, no link-local (which would need
// a zone), IPv4 and/or IPv6 as asked.
func interfaceAddrs(v4, v6 bool) []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip := ipn.IP
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() {
			continue
		}
		if is4 := ip.To4() != nil; is4 && v4 || !is4 && v6 {
			out = append(out, ip.String())
		}
	}
	return out
}

// ANSI styles, werkzeug's codes.
const (
	ansiBold    = "1"
	ansiRed     = "31"
	ansiGreen   = "32"
	ansiYellow  = "33"
	ansiMagenta = "35"
	ansiCyan    = "36"
)

// ansiStyle wraps v in the styles as werkzeug's _ansi_style does (each
// style's code put in front in turn, one reset at the end), or returns v
// when color is off.
func ansiStyle(color bool, v string, styles ...string) string {
	if !color || len(styles) == 0 {
		return v
	}
	for _, st := range styles {
		v = "\x1b[" + st + "m" + v
	}
	return v + "\x1b[0m"
}
