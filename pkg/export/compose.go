package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/dockerfile"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/stack"
)

// ErrUnsupported is wrapped by the errors of a stack the compose layout
// cannot carry.
var ErrUnsupported = errors.New("no compose form")

// ErrTag is wrapped by the error of an image tag Compose refuses.
var ErrTag = errors.New("invalid image tag")

// ErrNotEmpty is returned by Write for a directory that already holds
// files: the export never writes over a user's files.
var ErrNotEmpty = errors.New("export directory not empty")

// File is one entry of an exported tree: its path relative to the tree's
// directory, slash-separated.
type File = dockerfile.File

// Tree is an exported layout, files sorted by path.
type Tree struct {
	Files []File
}

// File returns the entry at path, or nil.
func (t *Tree) File(path string) *File {
	for i := range t.Files {
		if t.Files[i].Path == path {
			return &t.Files[i]
		}
	}
	return nil
}

type config struct {
	tag       string
	imageOpts map[string][]llbdefs.Option
}

// Option configures Compose.
type Option func(*config)

// WithTag sets the tag of the images the compose file names,
// <service>:<tag> (default DefaultImageTag); never "latest".
func WithTag(tag string) Option { return func(c *config) { c.tag = tag } }

// WithImageOptions builds service's image graph with opts before it is
// converted (e.g. llbdefs.WithExtraPackages: the package in the
// Dockerfile's install line).
func WithImageOptions(service string, opts ...llbdefs.Option) Option {
	return func(c *config) {
		if c.imageOpts == nil {
			c.imageOpts = map[string][]llbdefs.Option{}
		}
		c.imageOpts[service] = append(c.imageOpts[service], opts...)
	}
}

// DefaultImageTag is the images' tag when WithTag is not given: the one
// `inceptionctl build` stores them under.
const DefaultImageTag = "bookworm"

// generatedSecrets are the secrets the Makefile fills with random values.
// The optional ones of the run-time stack (TLS certificate and key) depend
// on files a user may or may not have: the export leaves them out, so
// nginx makes its self-signed certificate on first start.
var generatedSecrets = []string{stack.SecretDBRoot, stack.SecretDB, stack.SecretWPAdmin, stack.SecretWPUser, stack.SecretFTP, stack.SecretRedis}

// Compose renders the Inception subject's layout for the stack cfg
// describes (bonus services switched off in cfg are left out). The result
// depends on cfg and the options only: two calls give the same bytes.
//
//	tree, err := export.Compose(ctx, cfg)
func Compose(ctx context.Context, cfg stack.Config, opts ...Option) (*Tree, error) {
	c := config{tag: DefaultImageTag}
	for _, o := range opts {
		o(&c)
	}
	if c.tag == "" || c.tag == "latest" || !tagRe.MatchString(c.tag) {
		return nil, fmt.Errorf("%w %q: give an explicit tag other than latest (letters, digits, _ . -)", ErrTag, c.tag)
	}
	st, err := stack.Inception(cfg)
	if err != nil {
		return nil, err
	}
	w := &writer{cfg: cfg, tag: c.tag, files: map[string]File{}, envKeys: map[string]bool{}}
	file := composeFile{Name: st.Name, Services: map[string]service{}, Networks: map[string]network{networkName: {}}}
	for _, svc := range st.Services {
		if svc.Disabled {
			continue
		}
		img, err := imageOf(svc, c.imageOpts[svc.Name]...)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", svc.Name, err)
		}
		if err := w.requirements(ctx, svc.Name, img); err != nil {
			return nil, err
		}
		s, err := w.service(svc, img)
		if err != nil {
			return nil, err
		}
		file.Services[svc.Name] = s
	}
	file.Volumes = w.volumes()
	file.Secrets = map[string]secret{}
	for _, name := range slices.Sorted(maps.Keys(w.secrets)) {
		file.Secrets[name] = secret{File: "../secrets/" + name + ".txt"}
	}
	compose, err := marshal(file)
	if err != nil {
		return nil, err
	}
	w.add("srcs/docker-compose.yml", 0o644, append([]byte(composeHeader), compose...))
	env, err := w.dotEnv()
	if err != nil {
		return nil, err
	}
	w.add("srcs/.env", 0o644, env)
	w.add("Makefile", 0o644, w.makefile())
	out := &Tree{}
	for _, p := range slices.Sorted(maps.Keys(w.files)) {
		out.Files = append(out.Files, w.files[p])
	}
	return out, nil
}

// imageOf is the service's image graph: the recipe its build names.
func imageOf(svc stack.Service, opts ...llbdefs.Option) (llbdefs.Image, error) {
	recipe, err := build.RecipeOf(svc, llbdefs.Recipes())
	if err != nil {
		return llbdefs.Image{}, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return recipe(opts...)
}

var tagRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

const networkName = "inception"

const composeHeader = `# The Inception stack, written by ` + "`inceptionctl export compose`" + ` from the project's Go
# definitions. Settings come from .env next to this file (or the environment);
# passwords are files in ../secrets, made by the Makefile when missing.
# Run it from the directory above: make, or docker compose -f srcs/docker-compose.yml up -d --build
`

// writer collects the tree's files and what the compose file refers to.
type writer struct {
	cfg     stack.Config
	tag     string
	files   map[string]File
	envKeys map[string]bool // .env keys the compose file interpolates
	secrets map[string]bool
	mounts  map[string]stack.Mount // named volumes by name, as first mounted
}

func (w *writer) add(path string, mode fs.FileMode, data []byte) {
	w.files[path] = File{Path: path, Mode: mode, Data: data}
	for p := parent(path); p != ""; p = parent(p) {
		if _, ok := w.files[p]; !ok {
			w.files[p] = File{Path: p, Mode: fs.ModeDir | 0o755}
		}
	}
}

func parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// requirements writes srcs/requirements/<name>: the Dockerfile in the
// Docker 20.10 dialect and its build context, files under conf/ and
// executables under tools/.
func (w *writer) requirements(ctx context.Context, name string, img llbdefs.Image) error {
	res, err := dockerfile.FromImage(ctx, img,
		dockerfile.WithDialect(dockerfile.DialectDocker20),
		dockerfile.WithContextLayout(confOrTools))
	if err != nil {
		return fmt.Errorf("convert the image of %s to a Dockerfile: %w", name, err)
	}
	if err := dockerfile.Check(res.Dockerfile, dockerfile.DialectDocker20); err != nil {
		return fmt.Errorf("convert the image of %s to a Dockerfile: %w", name, err)
	}
	dir := "srcs/requirements/" + name
	w.add(dir+"/Dockerfile", 0o644, res.Dockerfile)
	for _, sub := range []string{"conf", "tools"} {
		w.files[dir+"/"+sub] = File{Path: dir + "/" + sub, Mode: fs.ModeDir | 0o755}
	}
	for _, f := range res.Context {
		f.Path = dir + "/" + f.Path
		w.files[f.Path] = f
	}
	return nil
}

// confOrTools puts a directory of the build context with an executable
// in it under tools/, any other under conf/.
func confOrTools(dir string, files []File) string {
	for _, f := range files {
		if f.Mode.IsRegular() && f.Mode&0o111 != 0 {
			return "tools/" + dir
		}
	}
	return "conf/" + dir
}

// composeFile is the compose file, in the order a person reads it; maps
// are written with sorted keys.
type composeFile struct {
	Name     string             `yaml:"name"`
	Services map[string]service `yaml:"services"`
	Networks map[string]network `yaml:"networks"`
	Volumes  map[string]volume  `yaml:"volumes,omitempty"`
	Secrets  map[string]secret  `yaml:"secrets,omitempty"`
}

type service struct {
	Image           string                `yaml:"image"`
	Build           buildSection          `yaml:"build"`
	Entrypoint      []string              `yaml:"entrypoint,omitempty,flow"`
	Command         []string              `yaml:"command,omitempty,flow"`
	WorkingDir      string                `yaml:"working_dir,omitempty"`
	Environment     map[string]string     `yaml:"environment,omitempty"`
	Secrets         []string              `yaml:"secrets,omitempty"`
	Volumes         []string              `yaml:"volumes,omitempty"`
	Tmpfs           []string              `yaml:"tmpfs,omitempty"`
	Ports           []string              `yaml:"ports,omitempty"`
	Networks        []string              `yaml:"networks"`
	DependsOn       map[string]dependency `yaml:"depends_on,omitempty"`
	Healthcheck     *healthcheck          `yaml:"healthcheck,omitempty"`
	Restart         string                `yaml:"restart,omitempty"`
	StopGracePeriod string                `yaml:"stop_grace_period,omitempty"`
	User            string                `yaml:"user,omitempty"`
	CapAdd          []string              `yaml:"cap_add,omitempty"`
	CapDrop         []string              `yaml:"cap_drop,omitempty"`
	Init            bool                  `yaml:"init,omitempty"`
	StopSignal      string                `yaml:"stop_signal,omitempty"`
	Hostname        string                `yaml:"hostname,omitempty"`
	ContainerName   string                `yaml:"container_name,omitempty"`
	ExtraHosts      []string              `yaml:"extra_hosts,omitempty"`
	ReadOnly        bool                  `yaml:"read_only,omitempty"`
	MemLimit        int64                 `yaml:"mem_limit,omitempty"`
	CPUs            float64               `yaml:"cpus,omitempty"`
	CPUShares       uint64                `yaml:"cpu_shares,omitempty"`
	PidsLimit       int64                 `yaml:"pids_limit,omitempty"`
}

type buildSection struct {
	Context string `yaml:"context"`
}

type dependency struct {
	Condition string `yaml:"condition"`
}

type healthcheck struct {
	Test        []string `yaml:"test,flow"`
	Interval    string   `yaml:"interval,omitempty"`
	Timeout     string   `yaml:"timeout,omitempty"`
	StartPeriod string   `yaml:"start_period,omitempty"`
	Retries     int      `yaml:"retries,omitempty"`
}

type network struct{}

type volume struct {
	Driver     string            `yaml:"driver"`
	DriverOpts map[string]string `yaml:"driver_opts"`
}

type secret struct {
	File string `yaml:"file"`
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode compose file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode compose file: %w", err)
	}
	return b.Bytes(), nil
}

// service is svc as compose says it.
func (w *writer) service(svc stack.Service, img llbdefs.Image) (service, error) {
	s := service{
		Image:    svc.Name + ":" + w.tag,
		Build:    buildSection{Context: "requirements/" + svc.Name},
		Networks: []string{networkName},
	}
	if len(svc.Env) > 0 {
		s.Environment = map[string]string{}
	}
	for k, v := range svc.Env {
		// A value the stack took from .env is interpolated from there, so
		// editing .env is enough; the others are the stack's wiring.
		if cur, ok := w.cfg.Env[k]; ok && cur == v {
			s.Environment[k] = w.ref(k)
			continue
		}
		s.Environment[k] = strings.ReplaceAll(v, "$", "$$")
	}
	for _, name := range svc.Secrets {
		if !slices.Contains(generatedSecrets, name) {
			continue
		}
		if w.secrets == nil {
			w.secrets = map[string]bool{}
		}
		w.secrets[name] = true
		s.Secrets = append(s.Secrets, name)
	}
	for _, m := range svc.Mounts {
		if m.Kind != stack.MountVolume {
			return service{}, fmt.Errorf("%w: service %s: %s mount of %s: the export writes named volumes only", ErrUnsupported, svc.Name, m.Kind, m.Target)
		}
		if w.mounts == nil {
			w.mounts = map[string]stack.Mount{}
		}
		if _, ok := w.mounts[m.Source]; !ok {
			w.mounts[m.Source] = m
		}
		v := m.Source + ":" + m.Target
		if m.ReadOnly {
			v += ":ro"
		}
		s.Volumes = append(s.Volumes, v)
	}
	ports, err := w.ports(svc)
	if err != nil {
		return service{}, err
	}
	s.Ports = ports
	if len(svc.DependsOn) > 0 {
		s.DependsOn = map[string]dependency{}
		for dep, cond := range svc.DependsOn {
			s.DependsOn[dep] = dependency{Condition: string(cond)}
		}
	}
	s.Healthcheck = health(svc.Health, img)
	if svc.Restart.Mode != "" {
		s.Restart = svc.Restart.String()
	}
	if svc.StopGracePeriod > 0 {
		s.StopGracePeriod = duration(svc.StopGracePeriod)
	}
	if svc.IPv4Address != "" {
		return service{}, fmt.Errorf("%w: service %s: fixed addresses are not exported", ErrUnsupported, svc.Name)
	}
	for _, t := range svc.Tmpfs {
		s.Tmpfs = append(s.Tmpfs, tmpfs(t))
	}
	s.Entrypoint, s.Command, s.WorkingDir = svc.Entrypoint, svc.Command, svc.WorkingDir
	s.User, s.CapAdd, s.CapDrop, s.ReadOnly = svc.User, svc.CapAdd, svc.CapDrop, svc.ReadOnlyRoot
	s.Init, s.StopSignal, s.Hostname, s.ContainerName = svc.Init, svc.StopSignal, svc.Hostname, svc.ContainerName
	for _, h := range svc.ExtraHosts {
		s.ExtraHosts = append(s.ExtraHosts, h.Name+":"+h.IP)
	}
	s.MemLimit, s.CPUs, s.CPUShares, s.PidsLimit = svc.Limits.MemoryBytes, svc.Limits.CPUs, svc.Limits.CPUShares, svc.Limits.Pids
	return s, nil
}

// ref is ${KEY}, remembered for .env.
func (w *writer) ref(key string) string {
	w.envKeys[key] = true
	return "${" + key + "}"
}

// ports publishes the stack's ports with their .env keys: HTTPS_PORT for
// 443, FTP_PORT for 21, the passive range as one range.
func (w *writer) ports(svc stack.Service) ([]string, error) {
	var out []string
	pasv := false
	for _, p := range svc.Ports {
		if p.Protocol != "" && p.Protocol != stack.TCP {
			return nil, fmt.Errorf("%w: service %s: %s port %d", ErrUnsupported, svc.Name, p.Protocol, p.ContainerPort)
		}
		if p.HostIP != "" && p.HostIP != w.cfg.HostIP {
			return nil, fmt.Errorf("%w: service %s: port %d on %s, not HOST_IP", ErrUnsupported, svc.Name, p.ContainerPort, p.HostIP)
		}
		ip := w.ref("HOST_IP")
		switch {
		case p.ContainerPort == 443 && p.HostPort == w.cfg.HTTPSPort:
			out = append(out, ip+":"+w.ref("HTTPS_PORT")+":443")
		case p.ContainerPort == 21 && p.HostPort == w.cfg.FTPPort:
			out = append(out, ip+":"+w.ref("FTP_PORT")+":21")
		case p.HostPort == p.ContainerPort && p.HostPort >= w.cfg.PasvMin && p.HostPort <= w.cfg.PasvMax:
			if !pasv {
				r := w.ref("FTP_PASV_MIN") + "-" + w.ref("FTP_PASV_MAX")
				out = append(out, ip+":"+r+":"+r)
				pasv = true
			}
		default:
			out = append(out, ip+":"+strconv.Itoa(p.HostPort)+":"+strconv.Itoa(p.ContainerPort))
		}
	}
	return out, nil
}

// tmpfs is t in compose's short syntax, PATH[:size=BYTES,mode=OCTAL,noexec|exec]:
// docker's tmpfs is noexec unless told exec, the runtime's the other way
// round, so the export always says which.
func tmpfs(t stack.Tmpfs) string {
	var opts []string
	if t.Size > 0 {
		opts = append(opts, "size="+strconv.FormatInt(t.Size, 10))
	}
	if t.Mode != 0 {
		opts = append(opts, "mode="+strconv.FormatUint(uint64(t.Mode), 8))
	}
	if t.NoExec {
		opts = append(opts, "noexec")
	} else {
		opts = append(opts, "exec")
	}
	if len(opts) == 0 {
		return t.Target
	}
	return t.Target + ":" + strings.Join(opts, ",")
}

// health is the service's health check, else its image's, without the
// start interval: compose refuses it on Docker before 25.
func health(hc *stack.HealthCheck, img llbdefs.Image) *healthcheck {
	if hc != nil {
		return &healthcheck{Test: hc.Test, Interval: duration(hc.Interval), Timeout: duration(hc.Timeout),
			StartPeriod: duration(hc.StartPeriod), Retries: hc.Retries}
	}
	ic := img.Config.Config.Healthcheck
	if ic == nil || len(ic.Test) == 0 {
		return nil
	}
	return &healthcheck{Test: ic.Test, Interval: duration(ic.Interval), Timeout: duration(ic.Timeout),
		StartPeriod: duration(ic.StartPeriod), Retries: ic.Retries}
}

// duration is d in compose's notation, in whole seconds when it is.
func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// volumes are the named volumes, bound to directories of DATA_DIR as the
// subject asks (/home/<login>/data/<volume>).
func (w *writer) volumes() map[string]volume {
	if len(w.mounts) == 0 {
		return nil
	}
	out := map[string]volume{}
	for name := range w.mounts {
		out[name] = volume{Driver: "local", DriverOpts: map[string]string{
			"type": "none", "o": "bind", "device": w.ref("DATA_DIR") + "/" + name}}
	}
	return out
}

// dotEnv is srcs/.env: every key the compose file interpolates, with the
// config's value, and LOGIN. No password key exists in a stack.Config.
func (w *writer) dotEnv() ([]byte, error) {
	values := maps.Clone(w.cfg.Env)
	values["DATA_DIR"] = w.cfg.DataDir
	keys := maps.Clone(w.envKeys)
	keys["LOGIN"] = true
	var b bytes.Buffer
	b.WriteString("# Settings of the Inception stack, read by docker compose (srcs/docker-compose.yml)\n")
	b.WriteString("# and the Makefile. Passwords are not here: they are files in ../secrets.\n")
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		v := values[k]
		if strings.ContainsAny(v, "'\n\r") {
			return nil, fmt.Errorf("%w: .env value of %s has a quote or a line break: change it", ErrUnsupported, k)
		}
		if !plainEnv.MatchString(v) {
			v = "'" + v + "'"
		}
		b.WriteString(k + "=" + v + "\n")
	}
	return b.Bytes(), nil
}

var plainEnv = regexp.MustCompile(`^[A-Za-z0-9_.,:/@+-]*$`)

// makefile is the subject's Makefile: secrets and data directories first,
// then docker compose.
func (w *writer) makefile() []byte {
	var secrets, dirs []string
	for _, s := range slices.Sorted(maps.Keys(w.secrets)) {
		secrets = append(secrets, "secrets/"+s+".txt")
	}
	var chowns []string
	for _, name := range slices.Sorted(maps.Keys(w.mounts)) {
		dirs = append(dirs, name)
		if m := w.mounts[name]; m.UID != 0 || m.GID != 0 {
			chowns = append(chowns, fmt.Sprintf("\t-@chown %d:%d $(DATA_DIR)/%s", m.UID, m.GID, name))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# The Inception stack, written by `+"`inceptionctl export compose`"+`.
# make: make missing secrets and data directories, build the images, start the stack.
# Needs docker (20.10 or later) with the compose plugin (docker compose v2).
COMPOSE ?= docker compose
COMPOSE_FILE := srcs/docker-compose.yml
# Where the volumes live; the environment wins over srcs/.env.
DATA_DIR ?= $(shell sed -n 's/^DATA_DIR=//p' srcs/.env)
export DATA_DIR
# RUN --mount in the Dockerfiles needs BuildKit (the default from Docker 23).
export DOCKER_BUILDKIT := 1
SECRETS := %s
VOLUMES := %s

all: up

up: $(SECRETS) data
	$(COMPOSE) -f $(COMPOSE_FILE) up -d --build

down:
	$(COMPOSE) -f $(COMPOSE_FILE) down

ps:
	$(COMPOSE) -f $(COMPOSE_FILE) ps

logs:
	$(COMPOSE) -f $(COMPOSE_FILE) logs

# A missing secret gets a random value; an existing one is kept.
secrets/%%.txt:
	@mkdir -p secrets && chmod 700 secrets
	@umask 077 && head -c 24 /dev/urandom | base64 | tr -d '\n/+=' > $@.tmp && mv $@.tmp $@
	@echo "made $@ (random)"

data:
	@test -n "$(DATA_DIR)" || { echo "DATA_DIR is empty: set it in srcs/.env"; exit 1; }
	@mkdir -p $(addprefix $(DATA_DIR)/,$(VOLUMES))
%s

clean: down

# Removes containers, volumes and images; the data in $(DATA_DIR) and the
# secrets stay (rm -rf them by hand to start over).
fclean:
	$(COMPOSE) -f $(COMPOSE_FILE) down --volumes --rmi all

re: fclean all

.PHONY: all up down ps logs data clean fclean re
`, strings.Join(secrets, " "), strings.Join(dirs, " "), strings.Join(chowns, "\n"))
	return []byte(b.String())
}
