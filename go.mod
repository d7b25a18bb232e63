module github.com/vial-go/vial

go 1.26

require (
	github.com/gorilla/mux v1.8.1 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
)
