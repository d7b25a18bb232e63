module github.com/vial-go/vial/interop

go 1.26

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/stretchr/testify v1.12.1
	github.com/vial-go/vial v0.0.0
)

require (
	github.com/BurntSushi/toml v1.6.0 // indirect
	github.com/gorilla/mux v1.8.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

replace github.com/vial-go/vial => ..
