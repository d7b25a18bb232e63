package vial

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// CLI is an App's set of custom commands, Flask's app.cli: [App.Main] and
// [App.RunCLI] offer them beside run and routes, listed in the usage.
type CLI struct {
	// ProgName is the program's name in the usage; empty, the base name of
	// os.Args[0] (click's prog_name).
	ProgName string

	commands map[string]*Command
	started  atomic.Bool // RunCLI has run: registering now is a mistake
}

// Command is a command of the command line, made by [CLI.Command].
type Command struct {
	// Flags takes the command's flags, to be defined before Main runs:
	//
	//	drop := cmd.Flags.Bool("drop", false, "drop the tables first")
	//
	// Each run starts from the defaults: a flag that an earlier RunCLI set
	// is reset with Value.Set(DefValue) first.
	Flags *flag.FlagSet
	// ArgsUsage names the arguments in the usage line, after [OPTIONS]
	// (for example "NAME [FILE]..."). A command whose ArgsUsage is empty
	// takes no arguments: extra ones are a usage error, as click rejects
	// the arguments a command did not declare.
	ArgsUsage string

	name, help string
	fn         func(*CLIContext) error
}

// CLIContext is what a command's function gets: the App, the parsed flags
// and arguments, where to write, and a context.
type CLIContext struct {
	// App is the App whose command runs, its Config as it was when Main
	// (or RunCLI) was called: load the configuration before Main.
	App *App
	// Flags holds the command's flags as this run parsed them (the Values
	// of Command.Flags): Lookup and Visit see what the user set.
	Flags *flag.FlagSet
	// Stdout and Stderr are where the command writes: os.Stdout and
	// os.Stderr under Main, the writers given to RunCLI.
	Stdout, Stderr io.Writer

	ctx context.Context
}

// Args returns the arguments after the flags.
func (c *CLIContext) Args() []string { return c.Flags.Args() }

// Context returns the command's context: under Main it is cancelled on the
// first SIGINT or SIGTERM (a second one kills the program), under RunCLI
// never.
func (c *CLIContext) Context() context.Context { return c.ctx }

// UsageError is an error a command returns when it was called wrongly,
// click's UsageError: the command line prints "Error: " and the message,
// then the command's usage, and exits with status 2. Any other error
// prints "Error: " and its message and exits with status 1. errors.As
// finds a UsageError wrapped in another error.
type UsageError string

// Error returns the message.
func (e UsageError) Error() string { return string(e) }

// Command registers the command name: "prog name [flags] [args]" parses
// the flags and calls fn, whose error sets the exit status (see
// [UsageError]). help's first line is the summary the usage lists beside
// the name; "prog name --help" shows the whole of it with the flags. Command
// returns the command, for its Flags and ArgsUsage.
//
// Command panics, naming the culprit, on a setup mistake: a name that is
// empty, starts with anything but a letter or digit, or holds anything
// but letters, digits and "-_.:"; a name taken by run, routes, help or an
// earlier command; a nil fn; a call after RunCLI (or Main) has run.
func (cli *CLI) Command(name, help string, fn func(*CLIContext) error) *Command {
	switch {
	case cli.started.Load():
		panic(fmt.Sprintf("vial: command %q registered after the command line has run", name))
	case !validCommandName(name):
		panic(fmt.Sprintf("vial: invalid command name %q: a letter or digit, then letters, digits, or -_.:", name))
	case name == "run" || name == "routes" || name == "help":
		panic(fmt.Sprintf("vial: command %q is built in", name))
	case cli.commands[name] != nil:
		panic(fmt.Sprintf("vial: command %q registered twice", name))
	case fn == nil:
		panic(fmt.Sprintf("vial: command %q has a nil function", name))
	}
	cmd := newCommand(name, help, fn)
	if cli.commands == nil {
		cli.commands = map[string]*Command{}
	}
	cli.commands[name] = cmd
	return cmd
}

func newCommand(name, help string, fn func(*CLIContext) error) *Command {
	return &Command{Flags: flag.NewFlagSet(name, flag.ContinueOnError), name: name, help: help, fn: fn}
}

func validCommandName(name string) bool {
	for i, r := range name {
		alnum := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("-_.:", r)) {
			return false
		}
	}
	return name != ""
}

// summary is the first line of the help, as the command list shows it.
func (cmd *Command) summary() string {
	first, _, _ := strings.Cut(strings.TrimSpace(cmd.help), "\n")
	return strings.TrimSpace(first)
}

// parse parses args into a fresh flag set holding cmd.Flags' Values, reset
// to their defaults, so that each run starts afresh and Visit sees only this
// run's flags. Errors come back in click's words, printing nothing.
func (cmd *Command) parse(args []string) (*flag.FlagSet, error) {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var resetErr error
	cmd.Flags.VisitAll(func(f *flag.Flag) {
		if f.Value.String() != f.DefValue {
			if err := f.Value.Set(f.DefValue); err != nil && resetErr == nil {
				resetErr = fmt.Errorf("vial: resetting flag -%s of %s: %w", f.Name, cmd.name, err)
			}
		}
		fs.Var(f.Value, f.Name, f.Usage)
	})
	if resetErr != nil {
		return nil, resetErr
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil, err
		}
		return nil, UsageError(clickFlagMessage(fs, err.Error()))
	}
	if cmd.ArgsUsage == "" && fs.NArg() > 0 {
		s := ""
		if fs.NArg() > 1 {
			s = "s"
		}
		return nil, UsageError(fmt.Sprintf("Got unexpected extra argument%s (%s)", s, strings.Join(fs.Args(), " ")))
	}
	return fs, nil
}

// clickFlagMessage rewrites the flag package's error messages in click's
// words; a message it does not know stays as it is.
func clickFlagMessage(fs *flag.FlagSet, msg string) string {
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "No such option: " + dashed(name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Sprintf("Option '%s' requires an argument.", dashed(name))
	}
	// invalid value "V" for flag -NAME: ERR, and invalid boolean value "V" for -NAME: ERR
	rest, ok := strings.CutPrefix(msg, "invalid value ")
	if !ok {
		rest, ok = strings.CutPrefix(msg, "invalid boolean value ")
	}
	quoted, err := strconv.QuotedPrefix(rest)
	if !ok || err != nil {
		return msg
	}
	value, _ := strconv.Unquote(quoted)
	rest = strings.TrimPrefix(strings.TrimPrefix(rest[len(quoted):], " for flag -"), " for -")
	name, cause, ok := strings.Cut(rest, ": ")
	f := fs.Lookup(name)
	if !ok || f == nil {
		return msg
	}
	what := cause
	if kind := flagKind(f); kind != "" {
		what = fmt.Sprintf("'%s' is not a valid %s.", value, kind)
	}
	return fmt.Sprintf("Invalid value for '%s': %s", dashed(name), what)
}

// dashed is a flag's name as the usage shows it: -n for one letter, --name
// for more, click's convention (Go takes either).
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagKind names the type a standard flag parses, as click's messages do.
func flagKind(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case int, int64, uint, uint64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case time.Duration:
		return "duration"
	}
	return ""
}

// writeUsage writes the command's help, click's layout: the usage line, the
// help, the options.
func (cmd *Command) writeUsage(w io.Writer, prog string) {
	line := fmt.Sprintf("Usage: %s %s [OPTIONS]", prog, cmd.name)
	if cmd.ArgsUsage != "" {
		line += " " + cmd.ArgsUsage
	}
	fmt.Fprintln(w, line)
	if help := strings.TrimSpace(cmd.help); help != "" {
		fmt.Fprintln(w)
		for l := range strings.Lines(help) {
			if l = strings.TrimRight(l, " \t\r\n"); l != "" {
				l = "  " + l
			}
			fmt.Fprintln(w, l)
		}
	}
	var rows [][2]string
	cmd.Flags.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		name := dashed(f.Name)
		if kind != "" {
			name += " " + kind
		}
		if !isZeroDefault(f) {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		rows = append(rows, [2]string{name, usage})
	})
	rows = append(rows, [2]string{"-h, --help", "Show this message and exit."})
	fmt.Fprintln(w, "\nOptions:")
	writeList(w, rows)
}

// isZeroDefault reports whether the flag's default is its type's zero value,
// which the usage does not show (as flag.PrintDefaults).
func isZeroDefault(f *flag.Flag) (zero bool) {
	defer func() {
		if recover() != nil {
			zero = false // a Value whose zero String panics: show the default
		}
	}()
	t := reflect.TypeOf(f.Value)
	var z reflect.Value
	if t.Kind() == reflect.Pointer {
		z = reflect.New(t.Elem())
	} else {
		z = reflect.Zero(t)
	}
	return f.DefValue == z.Interface().(flag.Value).String()
}

// writeList writes two aligned columns, indented, as click's lists.
func writeList(w io.Writer, rows [][2]string) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for _, r := range rows {
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-*s  %s", width, r[0], r[1]), " "))
	}
}

// sortedCommands returns the commands sorted by name, as click lists them.
func sortedCommands(cmds map[string]*Command) []*Command {
	return slices.SortedFunc(maps.Values(cmds), func(x, y *Command) int { return strings.Compare(x.name, y.name) })
}
