package vial_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

func routesApp() *vial.App {
	app := vial.New("cli")
	app.AddURLRule("/", "index", func(r *vial.Request) any { return "" })
	app.AddURLRule("/user/<int:id>", "user", func(r *vial.Request) any { return "" }, vial.Methods("GET", "POST"))
	app.AddURLRule("/about", "about", func(r *vial.Request) any { return "" })
	return app
}

func TestRoutesCommandPrintsAnAlignedTable(t *testing.T) {
	var out, errs bytes.Buffer
	code := routesApp().RunCLI([]string{"routes"}, &out, &errs)
	assert.Equal(t, 0, code)
	assert.Empty(t, errs.String())
	assert.Equal(t, ""+
		"Endpoint  Methods    Rule\n"+
		"--------  ---------  --------------\n"+
		"about     GET        /about\n"+
		"index     GET        /\n"+
		"user      GET, POST  /user/<int:id>\n", out.String())

	out.Reset()
	assert.Equal(t, 0, routesApp().RunCLI([]string{"routes", "--sort", "rule"}, &out, &errs))
	assert.Equal(t, ""+
		"Endpoint  Methods    Rule\n"+
		"--------  ---------  --------------\n"+
		"index     GET        /\n"+
		"about     GET        /about\n"+
		"user      GET, POST  /user/<int:id>\n", out.String())

	out.Reset()
	assert.Equal(t, 0, routesApp().RunCLI([]string{"routes", "--sort", "match", "--all-methods"}, &out, &errs))
	assert.Contains(t, out.String(), "index     GET, HEAD, OPTIONS        /\n")
}

func TestCLIBadUsageExitsWith2(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"serve"},
		{"run", "--bogus"},
		{"run", "--port", "notanumber"},
		{"routes", "--sort", "colour"},
	} {
		var out, errs bytes.Buffer
		code := routesApp().RunCLI(args, &out, &errs)
		assert.Equal(t, 2, code, "%q", args)
		assert.NotEmpty(t, errs.String(), "%q: usage goes to stderr", args)
		assert.Empty(t, out.String(), "%q", args)
	}
	var out bytes.Buffer
	assert.Equal(t, 0, vial.New("x").RunCLI([]string{"routes"}, &out, &out))
	assert.Equal(t, "No routes were registered.\n", out.String())
}

// cliRun records what a command of cliApp was given.
type cliRun struct {
	args   []string
	drop   bool
	n      int
	set    []string // the flags c.Flags.Visit saw
	app    *vial.App
	ctxErr error
}

// cliApp is routesApp with two commands of its own: init-db (flags, no
// arguments) and add-user (arguments), recording what they get in run.
func cliApp(run *cliRun) *vial.App {
	app := routesApp()
	app.CLI.ProgName = "cli"
	var drop *bool
	var n *int
	initDB := app.CLI.Command("init-db", "Clear the data and create the tables.\n\nThe tables are made again, empty.", func(c *vial.CLIContext) error {
		run.args, run.drop, run.n, run.app, run.ctxErr = c.Args(), *drop, *n, c.App, c.Context().Err()
		run.set = nil
		c.Flags.Visit(func(f *flag.Flag) { run.set = append(run.set, f.Name) })
		fmt.Fprintln(c.Stdout, "Initialized the database.")
		return nil
	})
	drop = initDB.Flags.Bool("drop", false, "drop the tables first")
	n = initDB.Flags.Int("n", 3, "how many `rows` to seed")
	addUser := app.CLI.Command("add-user", "Add a user.", func(c *vial.CLIContext) error {
		run.args = c.Args()
		if len(run.args) == 0 {
			return fmt.Errorf("add-user: %w", vial.UsageError("Missing argument 'NAME'."))
		}
		if run.args[0] == "root" {
			return errors.New("root exists already")
		}
		return nil
	})
	addUser.ArgsUsage = "NAME..."
	return app
}

const cliUsage = `Usage: cli [OPTIONS] COMMAND [ARGS]...

  A command line for the vial app "cli".

Options:
  -h, --help  Show this message and exit.

Commands:
  add-user  Add a user.
  init-db   Clear the data and create the tables.
  routes    Show the routes of the app.
  run       Run the development server.

Run "cli COMMAND --help" for a command's options.
`

func TestCLIHelpListsTheCommandsSortedWithTheirSummary(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"-help"}, {"help"}} {
		var out, errs bytes.Buffer
		assert.Equal(t, 0, cliApp(&cliRun{}).RunCLI(args, &out, &errs), "%q", args)
		assert.Equal(t, cliUsage, out.String(), "%q: help goes to stdout", args)
		assert.Empty(t, errs.String(), "%q", args)
	}
}

const initDBUsage = `Usage: cli init-db [OPTIONS]

  Clear the data and create the tables.

  The tables are made again, empty.

Options:
  --drop      drop the tables first
  -n rows     how many rows to seed (default 3)
  -h, --help  Show this message and exit.
`

func TestCommandHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{{"init-db", "--help"}, {"init-db", "-h"}, {"help", "init-db"}} {
		var out, errs bytes.Buffer
		assert.Equal(t, 0, cliApp(&cliRun{}).RunCLI(args, &out, &errs), "%q", args)
		assert.Equal(t, initDBUsage, out.String(), "%q: the full help and the options", args)
		assert.Empty(t, errs.String(), "%q", args)
	}
	for _, args := range [][]string{{"run", "-h"}, {"routes", "--help"}, {"add-user", "-help"}} {
		var out, errs bytes.Buffer
		assert.Equal(t, 0, cliApp(&cliRun{}).RunCLI(args, &out, &errs), "%q", args)
		assert.True(t, strings.HasPrefix(out.String(), "Usage: cli "+args[0]+" [OPTIONS]"), "%q: %s", args, out.String())
		assert.Contains(t, out.String(), "\nOptions:\n", "%q", args)
		assert.Empty(t, errs.String(), "%q", args)
	}
	var out bytes.Buffer
	cliApp(&cliRun{}).RunCLI([]string{"run", "-h"}, &out, &out)
	assert.Contains(t, out.String(), "  --port int     the port to bind to (default 5000)\n")
	out.Reset()
	cliApp(&cliRun{}).RunCLI([]string{"add-user", "-h"}, &out, &out)
	assert.Contains(t, out.String(), "Usage: cli add-user [OPTIONS] NAME...\n", "ArgsUsage names the arguments")
}

func TestCommandGetsItsFlagsArgsAndApp(t *testing.T) {
	run := &cliRun{}
	app := cliApp(run)
	var out, errs bytes.Buffer
	require.Equal(t, 0, app.RunCLI([]string{"init-db", "-drop", "--n", "5"}, &out, &errs), errs.String())
	assert.Equal(t, "Initialized the database.\n", out.String(), "the command writes to RunCLI's stdout")
	assert.Empty(t, errs.String())
	assert.True(t, run.drop)
	assert.Equal(t, 5, run.n)
	assert.Equal(t, []string{"drop", "n"}, run.set, "c.Flags saw what was set")
	assert.Same(t, app, run.app)
	assert.NoError(t, run.ctxErr, "RunCLI's context is live")

	// A second run starts from the defaults, not from the first run's values.
	require.Equal(t, 0, app.RunCLI([]string{"init-db"}, &out, &errs))
	assert.False(t, run.drop)
	assert.Equal(t, 3, run.n)
	assert.Empty(t, run.set)

	require.Equal(t, 0, app.RunCLI([]string{"add-user", "ann", "bob"}, &out, &errs), errs.String())
	assert.Equal(t, []string{"ann", "bob"}, run.args)
	require.Equal(t, 0, app.RunCLI([]string{"add-user", "--", "-ann"}, &out, &errs), errs.String())
	assert.Equal(t, []string{"-ann"}, run.args, "-- ends the flags")
}

func TestCommandErrorPrintsErrorAndExitsWith1(t *testing.T) {
	var out, errs bytes.Buffer
	assert.Equal(t, 1, cliApp(&cliRun{}).RunCLI([]string{"add-user", "root"}, &out, &errs))
	assert.Equal(t, "Error: root exists already\n", errs.String(), "the message alone, no usage")
	assert.Empty(t, out.String())
}

func TestCommandUsageErrorPrintsTheUsageAndExitsWith2(t *testing.T) {
	var out, errs bytes.Buffer
	assert.Equal(t, 2, cliApp(&cliRun{}).RunCLI([]string{"add-user"}, &out, &errs))
	assert.Equal(t, "Error: add-user: Missing argument 'NAME'.\n\n"+
		"Usage: cli add-user [OPTIONS] NAME...\n\n"+
		"  Add a user.\n\n"+
		"Options:\n"+
		"  -h, --help  Show this message and exit.\n", errs.String(), "a wrapped UsageError is found")
	assert.Empty(t, out.String())
}

func TestCLIUsageErrorsAnswerInClickStyle(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		error string // the first line
		usage string // the usage line that follows
	}{
		{[]string{"nope"}, "No such command 'nope'.", "Usage: cli [OPTIONS] COMMAND [ARGS]..."},
		{[]string{"--bogus=1"}, "No such option: --bogus", "Usage: cli [OPTIONS] COMMAND [ARGS]..."},
		{[]string{"help", "nope"}, "No such command 'nope'.", "Usage: cli [OPTIONS] COMMAND [ARGS]..."},
		{[]string{"run", "--bogus"}, "No such option: --bogus", "Usage: cli run [OPTIONS]"},
		{[]string{"run", "-x"}, "No such option: -x", "Usage: cli run [OPTIONS]"},
		{[]string{"run", "--port", "notanumber"}, "Invalid value for '--port': 'notanumber' is not a valid integer.", "Usage: cli run [OPTIONS]"},
		{[]string{"run", "--port"}, "Option '--port' requires an argument.", "Usage: cli run [OPTIONS]"},
		{[]string{"run", "--debug=maybe"}, "Invalid value for '--debug': 'maybe' is not a valid boolean.", "Usage: cli run [OPTIONS]"},
		// --port -1: were the check missing, Run would fail (status 1), not serve.
		{[]string{"run", "--port", "-1", "extra"}, "Got unexpected extra argument (extra)", "Usage: cli run [OPTIONS]"},
		{[]string{"run", "--port", "-1", "--cert", "c.pem"}, "--cert and --key go together (or --cert adhoc)", "Usage: cli run [OPTIONS]"},
		{[]string{"routes", "--bogus"}, "No such option: --bogus", "Usage: cli routes [OPTIONS]"},
		{[]string{"routes", "--sort", "colour"}, "Invalid value for '--sort': 'colour' is not one of 'endpoint', 'methods', 'rule', 'match'.", "Usage: cli routes [OPTIONS]"},
		{[]string{"init-db", "--bogus"}, "No such option: --bogus", "Usage: cli init-db [OPTIONS]"},
		{[]string{"init-db", "-n", "x"}, "Invalid value for '-n': 'x' is not a valid integer.", "Usage: cli init-db [OPTIONS]"},
		{[]string{"init-db", "a", "b"}, "Got unexpected extra arguments (a b)", "Usage: cli init-db [OPTIONS]"},
	} {
		var out, errs bytes.Buffer
		assert.Equal(t, 2, cliApp(&cliRun{}).RunCLI(tc.args, &out, &errs), "%q", tc.args)
		assert.True(t, strings.HasPrefix(errs.String(), "Error: "+tc.error+"\n\n"+tc.usage+"\n"), "%q:\n%s", tc.args, errs.String())
		assert.NotContains(t, errs.String(), "flag provided", "%q: no message of the flag package", tc.args)
		assert.Empty(t, out.String(), "%q", tc.args)
	}
}

func TestCommandSetupMistakesPanicNamingTheCulprit(t *testing.T) {
	noop := func(*vial.CLIContext) error { return nil }
	for _, tc := range []struct{ name, culprit string }{
		{"run", `"run" is built in`},
		{"routes", `"routes" is built in`},
		{"help", `"help" is built in`},
		{"init-db", `"init-db" registered twice`},
		{"", `invalid command name ""`},
		{"-x", `invalid command name "-x"`},
		{"two words", `invalid command name "two words"`},
		{"a=b", `invalid command name "a=b"`},
		{"é", `invalid command name "é"`},
	} {
		app := vial.New("x")
		app.CLI.Command("init-db", "", noop)
		assertPanicsContaining(t, tc.culprit, func() { app.CLI.Command(tc.name, "", noop) }, tc.name)
	}
	assertPanicsContaining(t, `"seed" has a nil function`, func() { vial.New("x").CLI.Command("seed", "", nil) }, "nil")

	app := vial.New("x")
	app.CLI.Command("db:seed_2.0", "", noop) // letters, digits and -_.: are fine
	app.RunCLI([]string{"routes"}, io.Discard, io.Discard)
	assertPanicsContaining(t, `"late" registered after the command line has run`, func() { app.CLI.Command("late", "", noop) }, "late")
}

func assertPanicsContaining(t *testing.T, want string, f func(), msg string) {
	t.Helper()
	defer func() {
		r := recover()
		require.NotNil(t, r, "%s: no panic", msg)
		assert.Contains(t, fmt.Sprint(r), want, msg)
	}()
	f()
}

// TestMainCommandHelperProcess is the program
// TestMainCancelsTheCommandContextOnSIGINT starts: app.Main with a command
// that waits for its context.
func TestMainCommandHelperProcess(t *testing.T) {
	if os.Getenv("VIAL_TEST_CLI_WAIT") == "" {
		t.Skip("run by TestMainCancelsTheCommandContextOnSIGINT")
	}
	app := vial.New("waiter")
	app.CLI.Command("wait", "Wait for Ctrl-C.", func(c *vial.CLIContext) error {
		fmt.Fprintln(c.Stdout, "waiting")
		<-c.Context().Done()
		return c.Context().Err()
	})
	os.Args = []string{"waiter", "wait"}
	app.Main()
}

func TestMainCancelsTheCommandContextOnSIGINT(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainCommandHelperProcess$")
	cmd.Env = append(os.Environ(), "VIAL_TEST_CLI_WAIT=1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var errs bytes.Buffer
	cmd.Stderr = &errs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "waiting\n", line)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "stderr: %s", errs.String())
	assert.Equal(t, 1, exit.ExitCode(), "click's status for an abort")
	assert.Equal(t, "Aborted!\n", errs.String())
}
