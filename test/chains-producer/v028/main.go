// Command chains-producer signs Tekton runs with Tekton Chains v0.28.1 as a library (see ../producer).
package main

import "rekor-gate.test/chains-producer/producer"

func main() { producer.Main("v0.28.1") }
