// Package producer drives Tekton Chains' own signing of TaskRuns and PipelineRuns, as the Chains
// controller does it, but with fake Kubernetes clientsets instead of a cluster. It is built twice, once per
// Chains release (../v028 and ../v029 pin the release in their go.mod), and run by rekor-gate's tests
// (test/chains/) to obtain artifacts that Chains itself made.
//
// What is wired, and where it comes from in github.com/tektoncd/chains:
//   - the signer: chains.ObjectSigner{Backends, SecretPath, Pipelineclientset}, as
//     pkg/reconciler/taskrun/controller.go builds it (v0.28.1, 6221c79e40a4; v0.29.2, 95351f58cbe2);
//   - the backends: storage.InitializeBackends(ctx, pipelineClient, kubeClient, cfg), called there on every
//     config change;
//   - the config in the context: config.NewConfigFromMap over the chains-config ConfigMap's data, then
//     config.ToContext, as pkg/chains/signing_test.go does;
//   - the signing key: the directory the signing-secrets Secret is mounted at (cosign.key, cosign.password),
//     read by pkg/chains/signing/x509/x509.go;
//   - a PipelineRun: its child TaskRuns are signed first and then appended (pro.AppendTaskRun), as
//     pkg/reconciler/pipelinerun/pipelinerun.go does before it signs the PipelineRun;
//   - the fakes: the Tekton and Kubernetes fake clientsets hold the runs (annotations.MarkSigned patches them)
//     and the runs' ServiceAccounts (the OCI backend's k8schain keychain looks them up).
package producer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/tektoncd/chains/pkg/chains"
	"github.com/tektoncd/chains/pkg/chains/objects"
	"github.com/tektoncd/chains/pkg/chains/storage"
	"github.com/tektoncd/chains/pkg/config"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	pipelinefake "github.com/tektoncd/pipeline/pkg/client/clientset/versioned/fake"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"knative.dev/pkg/logging"

	// Every payload format Chains registers, as the controller imports them.
	_ "github.com/tektoncd/chains/pkg/chains/formats/all"
)

// Signed is what the producer prints for one run: its kind, name and the annotations Chains left on it.
type Signed struct {
	Kind        string            `json:"kind"`
	Name        string            `json:"name"`
	Annotations map[string]string `json:"annotations"`
}

// Output is the producer's whole answer, one JSON document on stdout.
type Output struct {
	ChainsVersion string   `json:"chainsVersion"`
	Runs          []Signed `json:"runs"`
}

type input struct {
	taskRuns     []*v1.TaskRun
	pipelineRuns []*v1.PipelineRun
}

// Main parses the command line, signs every run of the input and prints Output. chainsVersion names the
// release the calling module pins.
func Main(chainsVersion string) {
	runFile := flag.String("run", "", "JSON file: a TaskRun, a PipelineRun, or a List of them (a PipelineRun's child TaskRuns beside it)")
	configFile := flag.String("config", "", "JSON file: the chains-config ConfigMap's data (string to string)")
	secrets := flag.String("secrets", "", "directory laid out as the signing-secrets Secret is mounted (cosign.key, cosign.password)")
	dockerConfig := flag.String("docker-config", "", "optional: a .dockerconfigjson the runs' ServiceAccount holds as an image pull secret")
	keygen := flag.String("generate-key", "", "instead: write a signing-secrets directory (cosign.key, cosign.password, cosign.pub) and exit")
	flag.Parse()
	if *keygen != "" {
		if err := generateKey(*keygen); err != nil {
			fmt.Fprintln(os.Stderr, "chains-producer:", err)
			os.Exit(1)
		}
		return
	}
	if *runFile == "" || *configFile == "" || *secrets == "" {
		fmt.Fprintln(os.Stderr, "usage: chains-producer --run FILE --config FILE --secrets DIR [--docker-config FILE]")
		os.Exit(2)
	}
	out, err := run(*runFile, *configFile, *secrets, *dockerConfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chains-producer:", err)
		os.Exit(1)
	}
	out.ChainsVersion = chainsVersion
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "chains-producer:", err)
		os.Exit(1)
	}
}

func run(runFile, configFile, secrets, dockerConfig string) (*Output, error) {
	in, err := readInput(runFile)
	if err != nil {
		return nil, err
	}
	data := map[string]string{}
	if err := readJSON(configFile, &data); err != nil {
		return nil, err
	}
	cfg, err := config.NewConfigFromMap(data)
	if err != nil {
		return nil, fmt.Errorf("chains-config: %w", err)
	}

	zl, err := zap.NewDevelopment(zap.ErrorOutput(zap.CombineWriteSyncers(os.Stderr)))
	if err != nil {
		return nil, err
	}
	ctx := logging.WithLogger(context.Background(), zl.Sugar())
	ctx = config.ToContext(ctx, cfg)

	kubeObjects, err := accounts(in, dockerConfig)
	if err != nil {
		return nil, err
	}
	var tektonObjects []runtime.Object
	for _, tr := range in.taskRuns {
		tektonObjects = append(tektonObjects, tr)
	}
	for _, pr := range in.pipelineRuns {
		tektonObjects = append(tektonObjects, pr)
	}
	pipelineClient := pipelinefake.NewSimpleClientset(tektonObjects...)
	kubeClient := kubefake.NewSimpleClientset(kubeObjects...)

	backends, err := storage.InitializeBackends(ctx, pipelineClient, kubeClient, *cfg)
	if err != nil {
		return nil, fmt.Errorf("storage backends: %w", err)
	}
	signer := &chains.ObjectSigner{Backends: backends, SecretPath: secrets, Pipelineclientset: pipelineClient}

	out := &Output{}
	for _, tr := range in.taskRuns {
		if err := signer.Sign(ctx, objects.NewTaskRunObjectV1(tr)); err != nil {
			return nil, fmt.Errorf("signing TaskRun %s: %w", tr.Name, err)
		}
		got, err := pipelineClient.TektonV1().TaskRuns(tr.Namespace).Get(ctx, tr.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		out.Runs = append(out.Runs, Signed{Kind: "TaskRun", Name: tr.Name, Annotations: got.Annotations})
	}
	for _, pr := range in.pipelineRuns {
		pro := objects.NewPipelineRunObjectV1(pr)
		for _, child := range pr.Status.ChildReferences {
			tr, err := pipelineClient.TektonV1().TaskRuns(pr.Namespace).Get(ctx, child.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("PipelineRun %s: child TaskRun %s: %w", pr.Name, child.Name, err)
			}
			pro.AppendTaskRun(tr)
		}
		if err := signer.Sign(ctx, pro); err != nil {
			return nil, fmt.Errorf("signing PipelineRun %s: %w", pr.Name, err)
		}
		got, err := pipelineClient.TektonV1().PipelineRuns(pr.Namespace).Get(ctx, pr.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		out.Runs = append(out.Runs, Signed{Kind: "PipelineRun", Name: pr.Name, Annotations: got.Annotations})
	}
	return out, nil
}

// accounts returns the ServiceAccounts the runs name (or "default"), each holding the docker config as an
// image pull secret when one is given.
func accounts(in *input, dockerConfig string) ([]runtime.Object, error) {
	type key struct{ ns, name string }
	seen := map[key]bool{}
	add := func(ns, name string) {
		if name == "" {
			name = "default"
		}
		seen[key{ns, name}] = true
	}
	for _, tr := range in.taskRuns {
		add(tr.Namespace, tr.Spec.ServiceAccountName)
	}
	for _, pr := range in.pipelineRuns {
		add(pr.Namespace, pr.Spec.TaskRunTemplate.ServiceAccountName)
	}
	var pull []byte
	if dockerConfig != "" {
		b, err := os.ReadFile(dockerConfig)
		if err != nil {
			return nil, err
		}
		pull = b
	}
	keys := make([]key, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ns+"/"+keys[i].name < keys[j].ns+"/"+keys[j].name })
	var objs []runtime.Object
	for _, k := range keys {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: k.ns, Name: k.name}}
		if pull != nil {
			secret := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: k.ns, Name: k.name + "-registry"},
				Type:       corev1.SecretTypeDockerConfigJson,
				Data:       map[string][]byte{corev1.DockerConfigJsonKey: pull},
			}
			sa.ImagePullSecrets = []corev1.LocalObjectReference{{Name: secret.Name}}
			objs = append(objs, secret)
		}
		objs = append(objs, sa)
	}
	return objs, nil
}

// generateKey writes what `cosign generate-key-pair k8s://tekton-chains/signing-secrets` stores in the Secret:
// an encrypted cosign.key, its cosign.password and cosign.pub, made by the cosign release Chains links.
func generateKey(dir string) error {
	pw := make([]byte, 16)
	if _, err := rand.Read(pw); err != nil {
		return err
	}
	password := []byte(hex.EncodeToString(pw))
	keys, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return password, nil })
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, b := range map[string][]byte{"cosign.key": keys.PrivateBytes, "cosign.password": password, "cosign.pub": keys.PublicBytes} {
		if err := os.WriteFile(dir+"/"+name, b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func readJSON(file string, v any) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 16<<20))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// readInput reads one run or a List of runs; a PipelineRun's child TaskRuns come first in the answer, so
// that they are signed (and marked signed) before the PipelineRun, as the controller waits for them.
func readInput(file string) (*input, error) {
	var doc struct {
		Kind  string            `json:"kind"`
		Items []json.RawMessage `json:"items"`
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	items := doc.Items
	if doc.Kind != "List" {
		items = []json.RawMessage{raw}
	}
	in := &input{}
	for i, item := range items {
		var head struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(item, &head); err != nil {
			return nil, fmt.Errorf("%s: item %d: %w", file, i, err)
		}
		where := fmt.Sprintf("%s: item %d", file, i)
		switch head.Kind {
		case "TaskRun":
			tr, err := decodeRun[v1.TaskRun](item, where)
			if err != nil {
				return nil, err
			}
			in.taskRuns = append(in.taskRuns, tr)
		case "PipelineRun":
			pr, err := decodeRun[v1.PipelineRun](item, where)
			if err != nil {
				return nil, err
			}
			in.pipelineRuns = append(in.pipelineRuns, pr)
		default:
			return nil, fmt.Errorf("%s: item %d: kind %q is neither TaskRun nor PipelineRun", file, i, head.Kind)
		}
	}
	if len(in.taskRuns)+len(in.pipelineRuns) == 0 {
		return nil, errors.New(file + ": no TaskRun or PipelineRun")
	}
	return in, nil
}

// decodeRun decodes one run, its namespace "default" when it names none (as kubectl create would).
func decodeRun[T any, P interface {
	*T
	GetNamespace() string
	SetNamespace(string)
}](item json.RawMessage, where string) (P, error) {
	run := P(new(T))
	if err := json.Unmarshal(item, run); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if run.GetNamespace() == "" {
		run.SetNamespace("default")
	}
	return run, nil
}
