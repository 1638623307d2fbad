package stack

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Secret names: files in the secrets directory, mounted at run time at
// /run/secrets/<name> in the services that need them.
const (
	SecretDBRoot    = "db_root_password"
	SecretDB        = "db_password"
	SecretWPAdmin   = "wp_admin_password"
	SecretWPUser    = "wp_user_password"
	SecretFTP       = "ftp_password"
	SecretTLSCert   = "tls_cert"
	SecretTLSKey    = "tls_key"
	SecretRedis     = "redis_password" // Redis's requirepass, WordPress's object cache logs in with it
	secretFileMode  = 0o600
	generatedLength = 24 // random bytes, base64url: 32 characters
)

// passwordSecrets are the secrets up generates when they are missing; the
// .env key that may carry each instead is next to it.
var passwordSecrets = []struct{ name, envKey string }{
	{SecretDBRoot, "DB_ROOT_PASSWORD"},
	{SecretDB, "DB_PASSWORD"},
	{SecretWPAdmin, "WP_ADMIN_PASSWORD"},
	{SecretWPUser, "WP_USER_PASSWORD"},
	{SecretFTP, "FTP_PASSWORD"},
	{SecretRedis, "REDIS_PASSWORD"},
}

// Config is what a user sets for the Inception stack: the .env file, with
// defaults for everything but the secrets.
type Config struct {
	Login      string // LOGIN: names the data dir and the domain
	DataDir    string // DATA_DIR: where named volumes live (/home/<login>/data)
	SecretsDir string // SECRETS_DIR: secret files (./secrets)
	Domain     string // DOMAIN_NAME: <login>.42.fr
	HostIP     string // HOST_IP: address published ports bind to (0.0.0.0)
	HTTPSPort  int    // HTTPS_PORT: 443
	FTPPort    int    // FTP_PORT: 21
	PasvMin    int    // FTP_PASV_MIN: 21100
	PasvMax    int    // FTP_PASV_MAX: 21110
	// Env holds every key of the .env file, defaults filled in; services
	// take the keys they need from it. Password keys are not in it.
	Env map[string]string
	// Bonus services, on by default: ENABLE_REDIS, ENABLE_VSFTPD,
	// ENABLE_ADMINER, ENABLE_STATIC = 0 switches one off.
	Bonus map[string]bool
	// Limits are each service's memory and pids limits:
	// <SERVICE>_MEM_LIMIT and <SERVICE>_PIDS_LIMIT, 0 for none.
	Limits map[string]Limits
	// passwords from .env, written to missing secret files by EnsureSecrets.
	passwords map[string]string
}

// BonusServices are the services a Config can switch off.
var BonusServices = []string{"redis", "vsftpd", "adminer", "static"}

// defaultEnv are the .env keys with their defaults; {login} is replaced.
var defaultEnv = map[string]string{
	"DOMAIN_NAME":      "{login}.42.fr",
	"HTTPS_PORT":       "443",
	"HOST_IP":          "0.0.0.0",
	"MYSQL_DATABASE":   "wordpress",
	"MYSQL_USER":       "wpuser",
	"WP_TITLE":         "Inception",
	"WP_ADMIN_USER":    "{login}",
	"WP_ADMIN_EMAIL":   "{login}@{login}.42.fr",
	"WP_USER":          "author",
	"WP_USER_EMAIL":    "author@{login}.42.fr",
	"FTP_USER":         "ftpuser",
	"FTP_PORT":         "21",
	"FTP_PASV_MIN":     "21100",
	"FTP_PASV_MAX":     "21110",
	"FTP_PASV_ADDRESS": "127.0.0.1",
	"FTP_TLS":          "0",
	"ENABLE_REDIS":     "1",
	"ENABLE_VSFTPD":    "1",
	"ENABLE_ADMINER":   "1",
	"ENABLE_STATIC":    "1",
	"NGINX_PAGE_CACHE": "1",
	"PHP_TUNING":       "auto",
}

// defaultLimits are each service's memory and pids limits when .env sets
// none (<SERVICE>_MEM_LIMIT, <SERVICE>_PIDS_LIMIT). Memory: what the
// service needs at its busiest with room to spare, tmpfs included (nginx's
// page cache lives in its /tmp); WordPress sizes its php-fpm pool from its
// limit (a worker per 64 MiB). Pids count threads: MariaDB runs one per
// connection.
var defaultLimits = map[string]struct{ mem, pids string }{
	"nginx":     {"512m", "256"},
	"wordpress": {"1g", "256"},
	"mariadb":   {"1g", "512"},
	"redis":     {"384m", "64"},
	"vsftpd":    {"128m", "128"},
	"adminer":   {"256m", "64"},
	"static":    {"64m", "64"},
}

// minMemoryLimit is the least memory limit a service may get: below it
// runc refuses to start a container, and no service here would start.
const minMemoryLimit = 16 << 20

var (
	loginRe  = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	domainRe = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	wpUserRe = regexp.MustCompile(`^[A-Za-z0-9_.@-]{3,60}$`)
	envKeyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// DefaultLogin is the login when LOGIN is not set: the user who ran sudo,
// else the current user.
func DefaultLogin() string {
	if u := os.Getenv("SUDO_USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "root"
}

// ParseEnvFile reads a .env file: KEY=value lines, # comments, blank
// lines, optional `export `, values optionally in single or double quotes.
// A missing file is not an error (every key has a default).
func ParseEnvFile(path string) (map[string]string, error) {
	env := map[string]string{}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return env, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrInvalid, path, err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || !envKeyRe.MatchString(k) {
			// The line may hold a password: never echo it.
			return nil, fmt.Errorf("%w: %s line %d: expected KEY=value", ErrInvalid, path, n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		env[k] = v
	}
	return env, nil
}

// NewConfig fills defaults into env (as read by ParseEnvFile) and
// validates the result. Every problem is reported at once.
func NewConfig(env map[string]string) (Config, error) {
	c := Config{Env: map[string]string{}, Bonus: map[string]bool{}, Limits: map[string]Limits{}, passwords: map[string]string{}}
	c.Login = env["LOGIN"]
	if c.Login == "" {
		c.Login = DefaultLogin()
	}
	var errs []error
	if !loginRe.MatchString(c.Login) {
		errs = append(errs, fmt.Errorf("LOGIN %q: use a Unix login name (lower-case letters, digits, _ and -)", c.Login))
	}
	for k, v := range defaultEnv {
		c.Env[k] = strings.ReplaceAll(v, "{login}", c.Login)
	}
	for svc, l := range defaultLimits {
		c.Env[limitKey(svc, "MEM")] = l.mem
		c.Env[limitKey(svc, "PIDS")] = l.pids
	}
	for k, v := range env {
		c.Env[k] = v
	}
	for _, p := range passwordSecrets {
		if v, ok := c.Env[p.envKey]; ok {
			delete(c.Env, p.envKey)
			if v != "" {
				c.passwords[p.name] = v
			}
		}
	}
	c.Env["LOGIN"] = c.Login
	c.DataDir = orDefault(c.Env["DATA_DIR"], filepath.Join("/home", c.Login, "data"))
	c.SecretsDir = orDefault(c.Env["SECRETS_DIR"], "secrets")
	c.Domain = c.Env["DOMAIN_NAME"]
	c.HostIP = c.Env["HOST_IP"]

	if !domainRe.MatchString(c.Domain) || !strings.Contains(c.Domain, ".") && c.Domain != "localhost" {
		errs = append(errs, fmt.Errorf("DOMAIN_NAME %q: give a host name such as %s.42.fr", c.Domain, c.Login))
	}
	if !filepath.IsAbs(c.DataDir) {
		errs = append(errs, fmt.Errorf("DATA_DIR %q: give an absolute path", c.DataDir))
	}
	if ip := c.HostIP; ip == "" || strings.ContainsAny(ip, " /") {
		errs = append(errs, fmt.Errorf("HOST_IP %q: give an address such as 0.0.0.0 or 127.0.0.1", ip))
	}
	port := func(key string) int {
		v, err := strconv.Atoi(c.Env[key])
		if err != nil || v < 1 || v > 65535 {
			errs = append(errs, fmt.Errorf("%s %q: give a port from 1 to 65535", key, c.Env[key]))
		}
		return v
	}
	c.HTTPSPort = port("HTTPS_PORT")
	c.FTPPort = port("FTP_PORT")
	c.PasvMin = port("FTP_PASV_MIN")
	c.PasvMax = port("FTP_PASV_MAX")
	if c.PasvMin > c.PasvMax || c.PasvMax-c.PasvMin > 100 {
		errs = append(errs, fmt.Errorf("FTP_PASV_MIN..FTP_PASV_MAX %d..%d: give a range of at most 100 ports, low end first", c.PasvMin, c.PasvMax))
	}
	admin := c.Env["WP_ADMIN_USER"]
	switch {
	case strings.Contains(strings.ToLower(admin), "admin"):
		errs = append(errs, fmt.Errorf("WP_ADMIN_USER %q: the administrator's name must not contain \"admin\" (in any case): pick another name", admin))
	case !wpUserRe.MatchString(admin):
		errs = append(errs, fmt.Errorf("WP_ADMIN_USER %q: use 3 to 60 letters, digits, _ . @ or -", admin))
	}
	if u := c.Env["WP_USER"]; !wpUserRe.MatchString(u) || strings.EqualFold(u, admin) {
		errs = append(errs, fmt.Errorf("WP_USER %q: use 3 to 60 letters, digits, _ . @ or -, different from WP_ADMIN_USER", u))
	}
	for _, k := range []string{"WP_ADMIN_EMAIL", "WP_USER_EMAIL"} {
		if v := c.Env[k]; !strings.Contains(v, "@") || strings.ContainsAny(v, " \t") {
			errs = append(errs, fmt.Errorf("%s %q: give an e-mail address", k, v))
		}
	}
	if c.Env["WP_ADMIN_EMAIL"] == c.Env["WP_USER_EMAIL"] {
		errs = append(errs, errors.New("WP_ADMIN_EMAIL and WP_USER_EMAIL: WordPress needs two different addresses"))
	}
	for _, k := range []string{"MYSQL_DATABASE", "MYSQL_USER", "FTP_USER"} {
		if v := c.Env[k]; !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,31}$`).MatchString(v) {
			errs = append(errs, fmt.Errorf("%s %q: use letters, digits and _ (at most 32)", k, v))
		}
	}
	for _, svc := range BonusServices {
		key := "ENABLE_" + strings.ToUpper(svc)
		switch c.Env[key] {
		case "1", "true", "yes":
			c.Bonus[svc] = true
		case "0", "false", "no":
			c.Bonus[svc] = false
		default:
			errs = append(errs, fmt.Errorf("%s %q: use 1 or 0", key, c.Env[key]))
		}
	}
	switch c.Env["NGINX_PAGE_CACHE"] {
	case "1", "true", "yes":
		c.Env["NGINX_PAGE_CACHE"] = "1"
	case "0", "false", "no":
		c.Env["NGINX_PAGE_CACHE"] = "0"
	default:
		errs = append(errs, fmt.Errorf("NGINX_PAGE_CACHE %q: use 1 (anonymous visitors' pages cached) or 0", c.Env["NGINX_PAGE_CACHE"]))
	}
	switch c.Env["PHP_TUNING"] {
	case "auto", "stock":
	default:
		errs = append(errs, fmt.Errorf("PHP_TUNING %q: use auto (PHP tuned for WordPress and the container) or stock (PHP as before that tuning)", c.Env["PHP_TUNING"]))
	}
	for _, svc := range slices.Sorted(maps.Keys(defaultLimits)) {
		var l Limits
		key := limitKey(svc, "MEM")
		mem, err := parseBytes(c.Env[key])
		if err != nil || mem != 0 && mem < minMemoryLimit {
			errs = append(errs, fmt.Errorf("%s %q: give a size of at least 16m such as 512m or 1g, or 0 for no limit", key, c.Env[key]))
		}
		l.MemoryBytes = mem
		key = limitKey(svc, "PIDS")
		pids, err := strconv.ParseInt(c.Env[key], 10, 64)
		if err != nil || pids < 0 || pids > 0 && pids < 16 {
			errs = append(errs, fmt.Errorf("%s %q: give a number of processes and threads of at least 16, or 0 for no limit", key, c.Env[key]))
		}
		l.Pids = pids
		c.Limits[svc] = l
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("%w: .env: %w", ErrInvalid, errors.Join(errs...))
	}
	return c, nil
}

// limitKey is the .env key of a service's limit: NGINX_MEM_LIMIT, ...
func limitKey(svc, what string) string { return strings.ToUpper(svc) + "_" + what + "_LIMIT" }

// parseBytes reads a size as compose's mem_limit: digits with an optional
// unit b, k, m or g (powers of 1024, either case, a trailing b allowed:
// 512m, 1gb, 1048576).
func parseBytes(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	digits := strings.TrimRight(s, "bkmg")
	unit := strings.TrimSuffix(s[len(digits):], "b")
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: give digits and a unit such as 512m", v)
	}
	shift := map[string]uint{"": 0, "k": 10, "m": 20, "g": 30}
	sh, ok := shift[unit]
	if !ok || n > (1<<62)>>sh {
		return 0, fmt.Errorf("size %q: give digits and a unit such as 512m", v)
	}
	return n << sh, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// SecretsReport says what EnsureSecrets did, by secret name; never values.
type SecretsReport struct {
	Dir       string
	Generated []string // made with random values
	FromEnv   []string // written from a .env password key
}

// EnsureSecrets makes the secrets directory (mode 0700) and every missing
// password secret in it (mode 0600): from the .env password key when one is
// set, else a random value. Existing files are kept as they are, but must be
// readable, non-empty regular files.
func (c Config) EnsureSecrets() (SecretsReport, error) {
	rep := SecretsReport{Dir: c.SecretsDir}
	if err := os.MkdirAll(c.SecretsDir, 0o700); err != nil {
		return rep, fmt.Errorf("%w: secrets directory: %w", ErrInvalid, err)
	}
	for _, p := range passwordSecrets {
		path := filepath.Join(c.SecretsDir, p.name)
		st, err := os.Stat(path)
		if err == nil {
			if !st.Mode().IsRegular() || st.Size() == 0 {
				return rep, fmt.Errorf("%w: secret %s: not a non-empty file: fix or remove it to have a new one made", ErrInvalid, path)
			}
			f, err := os.Open(path)
			if err != nil {
				return rep, fmt.Errorf("%w: secret %s is not readable: %w", ErrInvalid, path, err)
			}
			f.Close()
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return rep, fmt.Errorf("%w: secret %s: %w", ErrInvalid, path, err)
		}
		value, fromEnv := c.passwords[p.name]
		if !fromEnv {
			b := make([]byte, generatedLength)
			if _, err := rand.Read(b); err != nil {
				return rep, err
			}
			value = base64.RawURLEncoding.EncodeToString(b)
		}
		if err := writeSecret(path, value); err != nil {
			return rep, err
		}
		if fromEnv {
			rep.FromEnv = append(rep.FromEnv, p.name)
		} else {
			rep.Generated = append(rep.Generated, p.name)
		}
	}
	sort.Strings(rep.Generated)
	return rep, nil
}

// writeSecret writes value to path atomically with mode 0600.
func writeSecret(path, value string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-secret-*")
	if err != nil {
		return fmt.Errorf("%w: write secret %s: %w", ErrInvalid, path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(secretFileMode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(value); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Link, not rename: a secret made meanwhile by someone else wins.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: write secret %s: %w", ErrInvalid, path, err)
	}
	return nil
}

// HasTLS reports whether the secrets directory holds a certificate and key
// for nginx (and FTPS); without them nginx makes a self-signed one.
func (c Config) HasTLS() bool { return c.hasSecret(SecretTLSCert) && c.hasSecret(SecretTLSKey) }

func (c Config) hasSecret(name string) bool {
	st, err := os.Stat(filepath.Join(c.SecretsDir, name))
	return err == nil && st.Mode().IsRegular()
}
