module github.com/vial-go/vial

go 1.26

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/gorilla/mux v1.8.1
	github.com/stretchr/testify v1.12.1
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
