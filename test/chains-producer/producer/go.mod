module rekor-gate.test/chains-producer/producer

go 1.26.4

require github.com/tektoncd/chains v0.28.1
