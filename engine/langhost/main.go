// pulumi-language-python: the Python language host this project builds for itself.
//
// Pulumi releases ship a language host built from the module
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, but the Go module proxy
// does not serve that module, so this project supplies a small host of its own on top of the
// served sdk/v3 module at the same version as the CLI. It implements the part of the
// LanguageRuntime gRPC service that `pulumi preview/up/refresh/destroy` use: Handshake,
// GetPluginInfo, GetRequiredPlugins/Packages, Run, InstallDependencies, About and
// GetProgramDependencies.
//
// Run starts the program through `pulumi-language-python-exec` (a Python script found next to
// this binary) with the interpreter of the project's virtual environment (the runtime option
// `virtualenv` in Pulumi.yaml), passing the stack configuration the way the Python SDK reads it:
// PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

const execScriptName = "pulumi-language-python-exec"

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	engineAddress string
	execScript    string
	tracing       string
}

func main() {
	tracing := flag.String("tracing", "", "Zipkin-compatible tracing endpoint (passed to the program)")
	flag.String("root", "", "project root (unused: the engine sends it again in each request)")
	// -v and -logtostderr, which the engine also passes, are glog's flags, registered on import.
	flag.Parse()

	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	h := &host{
		execScript: filepath.Join(filepath.Dir(self), execScriptName),
		tracing:    *tracing,
	}
	if args := flag.Args(); len(args) > 0 {
		h.engineAddress = args[0]
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fail(fmt.Errorf("could not start the language host's gRPC server: %w", err))
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fail(fmt.Errorf("language host stopped serving: %w", err))
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
	os.Exit(1)
}

func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: strings.TrimPrefix(version.Version, "v")}, nil
}

// The program's only plugin is the dynamic-provider host, which ships beside the CLI, so there is
// nothing for the engine to install.
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetProgramDependencies(
	context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

// Dependencies are installed by the project's own setup (bin/setup), which pins them; the engine's
// `pulumi install` therefore has nothing left to do.
func (h *host) InstallDependencies(
	_ *pulumirpc.InstallDependenciesRequest,
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	return stream.Send(&pulumirpc.InstallDependenciesResponse{
		Stdout: []byte("dependencies are installed by bin/setup\n"),
	})
}

func (h *host) About(_ context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	python := pythonFor(req.GetInfo())
	out, err := exec.Command(python, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running %s --version: %w", python, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: python,
		Version:    strings.TrimSpace(strings.TrimPrefix(string(out), "Python ")),
	}, nil
}

func (h *host) Run(_ context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	python := pythonFor(info)

	program := req.GetProgram()
	if info != nil && info.GetProgramDirectory() != "" {
		program = filepath.Join(info.GetProgramDirectory(), info.GetEntryPoint())
	}
	if program == "" {
		program = "."
	}

	args := []string{"-u", h.execScript}
	add := func(flag, value string) {
		if value != "" {
			args = append(args, "--"+flag, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("organization", req.GetOrganization())
	add("pwd", req.GetPwd())
	add("dry_run", fmt.Sprint(req.GetDryRun()))
	add("parallel", fmt.Sprint(req.GetParallel()))
	add("tracing", h.tracing)
	if info != nil {
		add("root_directory", info.GetRootDirectory())
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	// A stack without config sends none; the SDK wants an object and a list, never null.
	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{}
	}
	secretKeyList := req.GetConfigSecretKeys()
	if secretKeyList == nil {
		secretKeyList = []string{}
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, fmt.Errorf("serialising the stack configuration: %w", err)
	}
	secretKeys, err := json.Marshal(secretKeyList)
	if err != nil {
		return nil, fmt.Errorf("serialising the secret configuration keys: %w", err)
	}

	cmd := exec.Command(python, args...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
	)
	if venv := virtualenvDir(info); venv != "" {
		cmd.Env = append(cmd.Env,
			"VIRTUAL_ENV="+venv,
			"PATH="+filepath.Join(venv, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
		)
	}

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			// The program has already reported its error through the engine; a bare exit code is
			// what the engine expects here.
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d",
				exitErr.ExitCode()), Bail: true}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run %s: %v", python, err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// virtualenvDir is the absolute path of the `virtualenv` runtime option, or "".
func virtualenvDir(info *pulumirpc.ProgramInfo) string {
	if info == nil || info.GetOptions() == nil {
		return ""
	}
	venv, _ := info.GetOptions().AsMap()["virtualenv"].(string)
	if venv == "" {
		return ""
	}
	if !filepath.IsAbs(venv) {
		venv = filepath.Join(info.GetRootDirectory(), venv)
	}
	return venv
}

func pythonFor(info *pulumirpc.ProgramInfo) string {
	if venv := virtualenvDir(info); venv != "" {
		return filepath.Join(venv, "bin", "python")
	}
	if p, err := exec.LookPath("python3"); err == nil {
		return p
	}
	return "python"
}
