package vial_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

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
