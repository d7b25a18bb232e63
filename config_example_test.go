package vial_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/vial-go/vial"
)

func ExampleConfig_FromFile() {
	dir, _ := os.MkdirTemp("", "vial-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte(`
SECRET_KEY = "dev"
MAX_CONTENT_LENGTH = 1_048_576
helper = "lower-case keys are not loaded"

[DB]
HOST = "localhost"
`), 0o600)

	app := vial.New("hello")
	if err := app.Config.FromFile(path); err != nil {
		fmt.Println(err)
		return
	}
	// An optional file: no error when it is absent.
	if err := app.Config.FromFile(filepath.Join(dir, "local.json"), vial.Silent(true)); err != nil {
		fmt.Println(err)
		return
	}
	limit, _ := app.Config.Int("MAX_CONTENT_LENGTH")
	fmt.Println(app.Config.String("SECRET_KEY"), limit, app.Config["DB"].(map[string]any)["HOST"])
	_, loaded := app.Config["helper"]
	fmt.Println(loaded)
	// Output:
	// dev 1048576 localhost
	// false
}

func ExampleConfig_FromPrefixedEnv() {
	// As a shell would set them: VIAL_PORT=8000 VIAL_DEBUG=true ...
	for k, v := range map[string]string{
		"VIAL_PORT":     "8000",
		"VIAL_DEBUG":    "true",
		"VIAL_NAME":     "abc",
		"VIAL_DB__HOST": "db.internal",
	} {
		os.Setenv(k, v)
		defer os.Unsetenv(k)
	}

	cfg := vial.Config{}
	if err := cfg.FromPrefixedEnv("VIAL"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%T %v\n", cfg["PORT"], cfg["PORT"])
	fmt.Printf("%T %v\n", cfg["DEBUG"], cfg["DEBUG"])
	fmt.Printf("%T %v\n", cfg["NAME"], cfg["NAME"])
	fmt.Println(cfg["DB"].(map[string]any)["HOST"])
	// Output:
	// int64 8000
	// bool true
	// string abc
	// db.internal
}
