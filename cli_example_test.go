package vial_test

import (
	"fmt"
	"os"

	"github.com/vial-go/vial"
)

// A command of the App's own beside run and routes, Flask's
// @app.cli.command: its flags are defined on the Command it returns, its
// function gets the App, the flags and the arguments. RunCLI runs the command
// line as app.Main() does, without exiting.
func ExampleCLI_Command() {
	app := vial.New("todo")
	app.CLI.ProgName = "todo" // the usage's program name; by default os.Args[0]'s

	var drop bool
	cmd := app.CLI.Command("init-db", "Clear the data and create the tables.", func(c *vial.CLIContext) error {
		fmt.Fprintf(c.Stdout, "Initialized the database of %s (drop: %v).\n", c.App.Name, drop)
		return nil // an error: "Error: ..." on stderr, status 1; a vial.UsageError: status 2
	})
	cmd.Flags.BoolVar(&drop, "drop", false, "drop the tables first")

	fmt.Println(app.RunCLI([]string{"init-db", "--drop"}, os.Stdout, os.Stdout))
	fmt.Println(app.RunCLI([]string{"--help"}, os.Stdout, os.Stdout))
	fmt.Println(app.RunCLI([]string{"init-db", "--bogus"}, os.Stdout, os.Stdout))
	// Output:
	// Initialized the database of todo (drop: true).
	// 0
	// Usage: todo [OPTIONS] COMMAND [ARGS]...
	//
	//   A command line for the vial app "todo".
	//
	// Options:
	//   -h, --help  Show this message and exit.
	//
	// Commands:
	//   init-db  Clear the data and create the tables.
	//   routes   Show the routes of the app.
	//   run      Run the development server.
	//
	// Run "todo COMMAND --help" for a command's options.
	// 0
	// Error: No such option: --bogus
	//
	// Usage: todo init-db [OPTIONS]
	//
	//   Clear the data and create the tables.
	//
	// Options:
	//   --drop      drop the tables first
	//   -h, --help  Show this message and exit.
	// 2
}
