package vial

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Main gives the program Flask's command line, and exits with its status:
//
//	go run ./examples/hello run --debug
//	go run ./examples/hello routes --sort rule
//	go run ./examples/hello init-db --drop      # a command of app.CLI
//
// Commands: run (--host, --port, --debug, --reload, --cert, --key) serves
// the App on the development server; routes prints the URL rules; the
// commands registered with [CLI.Command] run their functions. "--help",
// alone or after a command, prints the usage on stdout (status 0). Bad
// usage, an unknown command or flag or a command's [UsageError], prints
// "Error: " and the message, then the usage, on stderr (status 2); a
// command's other errors print "Error: " and the message (status 1).
// Flags are Go's: -port 8000, --port=8000 and --port 8000 alike, before the
// arguments.
func (a *App) Main() {
	os.Exit(a.runCLI(os.Args[1:], os.Stdout, os.Stderr, signalContext))
}

// RunCLI runs the command line args (without the program name) as [App.Main]
// does, writing to stdout and stderr, and returns the exit status. The
// commands' [CLIContext.Context] is never cancelled. RunCLI may be called
// again (as tests do), not concurrently on one App.
func (a *App) RunCLI(args []string, stdout, stderr io.Writer) int {
	return a.runCLI(args, stdout, stderr, func() (context.Context, context.CancelFunc) {
		return context.Background(), func() {}
	})
}

// signalContext is a command's context under Main: cancelled by the first
// SIGINT or SIGTERM, after which the signals' default comes back, so a
// second Ctrl-C stops a command that does not watch its context. Only a
// custom command gets one: run keeps the dev server's own handling.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

func (a *App) runCLI(args []string, stdout, stderr io.Writer, newContext func() (context.Context, context.CancelFunc)) int {
	a.CLI.started.Store(true)
	cmds := a.commands()
	if len(args) == 0 {
		a.usage(stderr, cmds)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		a.usage(stdout, cmds)
		return 0
	case "help": // "help" or "help COMMAND"
		if len(args) == 1 {
			a.usage(stdout, cmds)
			return 0
		}
		name, args = args[1], []string{args[1], "--help"}
	}
	cmd := cmds[name]
	if cmd == nil {
		msg := fmt.Sprintf("No such command '%s'.", name)
		if strings.HasPrefix(name, "-") {
			option, _, _ := strings.Cut(name, "=")
			msg = "No such option: " + option
		}
		fmt.Fprintf(stderr, "Error: %s\n\n", msg)
		a.usage(stderr, cmds)
		return 2
	}
	return a.runCommand(cmd, args[1:], stdout, stderr, newContext)
}

// runCommand parses the command's flags, runs it, and maps what it returns
// to the exit status.
func (a *App) runCommand(cmd *Command, args []string, stdout, stderr io.Writer, newContext func() (context.Context, context.CancelFunc)) int {
	prog := a.CLI.progName()
	fs, err := cmd.parse(args)
	var ctx context.Context
	if err == nil {
		var stop context.CancelFunc
		ctx, stop = newContext()
		defer stop()
		err = cmd.fn(&CLIContext{App: a, Flags: fs, Stdout: stdout, Stderr: stderr, ctx: ctx})
	}
	var usage UsageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		cmd.writeUsage(stdout, prog)
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "Error: %s\n\n", err)
		cmd.writeUsage(stderr, prog)
		return 2
	case ctx != nil && ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "Aborted!") // click's words for a Ctrl-C
		return 1
	}
	fmt.Fprintln(stderr, "Error:", err)
	return 1
}

// commands returns the built-in commands and the App's, by name. The
// built-in ones are made afresh for each run.
func (a *App) commands() map[string]*Command {
	cmds := map[string]*Command{"run": a.runCommandDef(), "routes": a.routesCommandDef()}
	maps.Copy(cmds, a.CLI.commands)
	return cmds
}

func (a *App) usage(w io.Writer, cmds map[string]*Command) {
	prog := a.CLI.progName()
	fmt.Fprintf(w, "Usage: %s [OPTIONS] COMMAND [ARGS]...\n\n  A command line for the vial app %q.\n\nOptions:\n", prog, a.Name)
	writeList(w, [][2]string{{"-h, --help", "Show this message and exit."}})
	fmt.Fprintln(w, "\nCommands:")
	var rows [][2]string
	for _, c := range sortedCommands(cmds) {
		rows = append(rows, [2]string{c.name, c.summary()})
	}
	writeList(w, rows)
	fmt.Fprintf(w, "\nRun \"%s COMMAND --help\" for a command's options.\n", prog)
}

func (cli *CLI) progName() string {
	if cli.ProgName != "" {
		return cli.ProgName
	}
	name := os.Args[0]
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// runCommandDef is the run command, Flask's flask run.
func (a *App) runCommandDef() *Command {
	cmd := newCommand("run", "Run the development server.", nil)
	fs := cmd.Flags
	host := fs.String("host", "127.0.0.1", "the interface to bind to")
	port := fs.Int("port", 5000, "the port to bind to")
	debug := fs.Bool("debug", envDebug(), "debug mode: the debugger, the reloader, contract validation (also VIAL_DEBUG=1)")
	reload := fs.Bool("reload", false, "restart when the sources change (on with --debug unless --reload=false)")
	cert := fs.String("cert", "", `a certificate file for HTTPS, or "adhoc" for a self-signed one`)
	key := fs.String("key", "", "the key file for --cert")
	cmd.fn = func(c *CLIContext) error {
		if (*cert == "") != (*key == "") && *cert != "adhoc" {
			return UsageError("--cert and --key go together (or --cert adhoc)")
		}
		opts := []RunOption{Debug(*debug)}
		if isFlagSet(c.Flags, "reload") {
			opts = append(opts, Reload(*reload))
		}
		if *cert != "" {
			opts = append(opts, TLS(*cert, *key))
		}
		return a.Run(net.JoinHostPort(*host, strconv.Itoa(*port)), opts...)
	}
	return cmd
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

// routesCommandDef is the routes command, Flask's flask routes.
func (a *App) routesCommandDef() *Command {
	cmd := newCommand("routes", "Show the routes of the app.", nil)
	sortBy := cmd.Flags.String("sort", "endpoint", "sort by endpoint, methods, rule or match (registration order)")
	allMethods := cmd.Flags.Bool("all-methods", false, "show HEAD and OPTIONS too")
	cmd.fn = func(c *CLIContext) error {
		switch *sortBy {
		case "endpoint", "methods", "rule", "match":
		default:
			return UsageError(fmt.Sprintf("Invalid value for '--sort': '%s' is not one of 'endpoint', 'methods', 'rule', 'match'.", *sortBy))
		}
		a.WriteRoutes(c.Stdout, *sortBy, *allMethods)
		return nil
	}
	return cmd
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
