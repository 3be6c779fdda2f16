module rekor-gate.test/chains-producer/modzip

go 1.26.4

require golang.org/x/mod v0.43.0
