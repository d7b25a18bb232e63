package vial

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Main gives the program Flask's command line, and exits with its status:
//
//	go run ./examples/hello run --debug
//	go run ./examples/hello routes --sort rule
//
// Commands: run (--host, --port, --debug, --reload, --cert, --key) serves
// the App on the development server; routes prints the URL rules. Bad
// usage prints the usage on stderr and exits with status 2.
func (a *App) Main() {
	os.Exit(a.RunCLI(os.Args[1:], os.Stdout, os.Stderr))
}

// RunCLI runs the command line args (without the program name) as [App.Main]
// does, writing to stdout and stderr, and returns the exit status.
func (a *App) RunCLI(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		a.usage(stderr)
		return 2
	}
	switch args[0] {
	case "run":
		return a.runCommand(args[1:], stderr)
	case "routes":
		return a.routesCommand(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		a.usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "Error: no such command %q.\n\n", args[0])
	a.usage(stderr)
	return 2
}

func (a *App) usage(w io.Writer) {
	fmt.Fprintf(w, `Usage: %s COMMAND [OPTIONS]

  A command line for the vial app %q.

Commands:
  run     Run the development server.
  routes  Show the routes of the app.

Run "%[1]s COMMAND -h" for a command's options.
`, programName(), a.Name)
}

func programName() string {
	name := os.Args[0]
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(programName()+" "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func (a *App) runCommand(args []string, stderr io.Writer) int {
	fs := newFlagSet("run", stderr)
	host := fs.String("host", "127.0.0.1", "the interface to bind to")
	port := fs.Int("port", 5000, "the port to bind to")
	debug := fs.Bool("debug", envDebug(), "debug mode: the debugger, the reloader, contract validation (also VIAL_DEBUG=1)")
	reload := fs.Bool("reload", false, "restart when the sources change (on with --debug unless --reload=false)")
	cert := fs.String("cert", "", `a certificate file for HTTPS, or "adhoc" for a self-signed one`)
	key := fs.String("key", "", "the key file for --cert")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "Error: run takes no arguments, got %q\n", fs.Args())
		fs.Usage()
		return 2
	}
	if (*cert == "") != (*key == "") && *cert != "adhoc" {
		fmt.Fprintln(stderr, "Error: --cert and --key go together (or --cert adhoc)")
		return 2
	}
	opts := []RunOption{Debug(*debug)}
	if isFlagSet(fs, "reload") {
		opts = append(opts, Reload(*reload))
	}
	if *cert != "" {
		opts = append(opts, TLS(*cert, *key))
	}
	if err := a.Run(net.JoinHostPort(*host, strconv.Itoa(*port)), opts...); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	return 0
}

func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

func (a *App) routesCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("routes", stderr)
	sortBy := fs.String("sort", "endpoint", "sort by endpoint, methods, rule or match (registration order)")
	allMethods := fs.Bool("all-methods", false, "show HEAD and OPTIONS too")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch *sortBy {
	case "endpoint", "methods", "rule", "match":
	default:
		fmt.Fprintf(stderr, "Error: --sort takes endpoint, methods, rule or match, not %q\n", *sortBy)
		return 2
	}
	a.WriteRoutes(stdout, *sortBy, *allMethods)
	return 0
}

// WriteRoutes writes the URL rules as an aligned table of Endpoint, Methods
// and Rule, as `flask routes` prints it, sorted by "endpoint", "methods",
// "rule" or "match" (registration order). HEAD and OPTIONS are left out
// unless allMethods.
func (a *App) WriteRoutes(w io.Writer, sortBy string, allMethods bool) {
	rules := a.URLMap.Rules() // a copy, ours to sort
	if len(rules) == 0 {
		fmt.Fprintln(w, "No routes were registered.")
		return
	}
	methods := func(r *Rule) string {
		var ms []string
		for _, m := range r.Methods {
			if allMethods || (m != "HEAD" && m != "OPTIONS") {
				ms = append(ms, m) // sorted already (normalizeMethods)
			}
		}
		return strings.Join(ms, ", ")
	}
	switch sortBy {
	case "endpoint":
		slices.SortStableFunc(rules, func(x, y *Rule) int { return strings.Compare(x.Endpoint, y.Endpoint) })
	case "methods":
		slices.SortStableFunc(rules, func(x, y *Rule) int { return strings.Compare(methods(x), methods(y)) })
	case "rule":
		slices.SortStableFunc(rules, func(x, y *Rule) int { return strings.Compare(x.Rule, y.Rule) })
	}
	rows := [][3]string{{"Endpoint", "Methods", "Rule"}}
	for _, r := range rules {
		rows = append(rows, [3]string{r.Endpoint, methods(r), r.Rule})
	}
	var width [3]int
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], len(cell))
		}
	}
	line := func(cells [3]string) {
		fmt.Fprintf(w, "%-*s  %-*s  %s\n", width[0], cells[0], width[1], cells[1], cells[2])
	}
	line(rows[0])
	line([3]string{strings.Repeat("-", width[0]), strings.Repeat("-", width[1]), strings.Repeat("-", width[2])})
	for _, row := range rows[1:] {
		line(row)
	}
}

// CLI is an App's set of custom commands (Flask's app.cli).
type CLI struct{}
