module sessionsidecar.dev/client

go 1.19

require google.golang.org/protobuf v1.28.1

// Offline build against Debian's golang-google-protobuf-dev (1.28.1). With network access and no Debian
// package, delete this line and run `go mod tidy`.
replace google.golang.org/protobuf => /usr/share/gocode/src/google.golang.org/protobuf
