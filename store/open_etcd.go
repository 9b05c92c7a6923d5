package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// EtcdConfig says how to reach the etcd cluster that replicas share.
type EtcdConfig struct {
	// Endpoints are the client URLs of the members (http:// or https://;
	// a bare host:port gets the scheme TLS implies).
	Endpoints []string `yaml:"endpoints"`
	// Prefix is put before every key, so one cluster can hold several
	// plangate installations (default /plangate).
	Prefix string `yaml:"prefix"`
	// Username and Password, when etcd has authentication enabled. The
	// password comes from the environment (PLANGATE_ETCD_PASSWORD), not
	// from files.
	Username string `yaml:"username"`
	Password string `yaml:"-"`
	// TLS: the CA that signed the members' certificates and, for client
	// certificate authentication, this client's certificate and key.
	// Any of them, or TLS true, makes the connection TLS.
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	TLS      bool   `yaml:"tls"`
	// DialTimeout bounds connecting (default 5s); RequestTimeout one
	// request (default 5s): past it the store reports ErrUnavailable.
	DialTimeout    time.Duration `yaml:"dial_timeout"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// LockTTL is the lease of this replica's locks and leadership: how
	// long after a replica dies its locks are freed (default 10s).
	LockTTL time.Duration `yaml:"lock_ttl"`
	// MaxTxnOps and MaxRequestBytes are the cluster's --max-txn-ops
	// (default 128) and --max-request-bytes (default 1.5 MiB): the store
	// keeps its transactions within them.
	MaxTxnOps       int `yaml:"max_txn_ops"`
	MaxRequestBytes int `yaml:"max_request_bytes"`
}

const defaultEtcdPrefix = "/plangate"

// ParseEtcdURL reads etcd://host1:2379,host2:2379/prefix (etcds:// for
// TLS; user@ before the hosts for a user name).
func ParseEtcdURL(s string) (EtcdConfig, error) {
	var c EtcdConfig
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != "etcd" && scheme != "etcds") {
		return c, fmt.Errorf("store location %q: want etcd://host:port[,host:port...][/prefix]", s)
	}
	c.TLS = scheme == "etcds"
	hosts, prefix, _ := strings.Cut(rest, "/")
	if user, h, ok := strings.Cut(hosts, "@"); ok {
		if strings.Contains(user, ":") {
			return c, fmt.Errorf("store location %q: put the etcd password in PLANGATE_ETCD_PASSWORD, not in the URL", redactURL(s))
		}
		c.Username, hosts = user, h
	}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.Endpoints = append(c.Endpoints, h)
		}
	}
	if len(c.Endpoints) == 0 {
		return c, fmt.Errorf("store location %q: no etcd endpoint", s)
	}
	if prefix != "" {
		c.Prefix = "/" + strings.Trim(prefix, "/")
	}
	return c, nil
}

func redactURL(s string) string {
	if i, j := strings.Index(s, "://"), strings.Index(s, "@"); i >= 0 && j > i {
		return s[:i+3] + "…" + s[j:]
	}
	return s
}

// merge takes endpoints, prefix, user and TLS from the URL u.
func (c EtcdConfig) merge(u EtcdConfig) EtcdConfig {
	c.Endpoints = u.Endpoints
	if u.Prefix != "" {
		c.Prefix = u.Prefix
	}
	if u.Username != "" {
		c.Username = u.Username
	}
	c.TLS = c.TLS || u.TLS
	return c
}

func (c EtcdConfig) useTLS() bool { return c.TLS || c.CAFile != "" || c.CertFile != "" }

func (c EtcdConfig) withDefaults() EtcdConfig {
	if c.Prefix == "" {
		c.Prefix = defaultEtcdPrefix
	}
	c.Prefix = "/" + strings.Trim(c.Prefix, "/")
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.LockTTL <= 0 {
		c.LockTTL = 10 * time.Second
	}
	if c.MaxTxnOps <= 0 {
		c.MaxTxnOps = 128
	}
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = 3 << 19 // 1.5 MiB
	}
	scheme := "http://"
	if c.useTLS() {
		scheme = "https://"
	}
	eps := make([]string, len(c.Endpoints))
	for i, e := range c.Endpoints {
		if !strings.Contains(e, "://") {
			e = scheme + e
		}
		eps[i] = e
	}
	c.Endpoints = eps
	return c
}

// Location is the etcd:// form of c, without credentials.
func (c EtcdConfig) Location() string {
	c = c.withDefaults()
	hosts := make([]string, len(c.Endpoints))
	for i, e := range c.Endpoints {
		_, h, _ := strings.Cut(e, "://")
		hosts[i] = h
	}
	scheme := "etcd://"
	if c.useTLS() {
		scheme = "etcds://"
	}
	return scheme + strings.Join(hosts, ",") + c.Prefix
}

func (c EtcdConfig) tlsConfig() (*tls.Config, error) {
	if !c.useTLS() {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("etcd CA: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd CA %s: no certificate in it", c.CAFile)
		}
	}
	if c.CertFile != "" || c.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// OpenEtcd connects to the etcd cluster of c and opens the store under its
// prefix (stamping an empty prefix; refusing one that holds other data).
// readOnly only checks the stamp.
func OpenEtcd(ctx context.Context, c EtcdConfig, readOnly bool) (*Store, error) {
	c = c.withDefaults()
	loc := c.Location()
	if len(c.Endpoints) == 0 {
		return nil, fmt.Errorf("store %s: no etcd endpoint", loc)
	}
	tc, err := c.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", loc, err)
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: c.Endpoints, DialTimeout: c.DialTimeout, TLS: tc,
		Username: c.Username, Password: c.Password,
		Logger: zap.NewNop(), Context: context.WithoutCancel(ctx),
	})
	if err != nil {
		return nil, wrap("connect to etcd "+loc, err)
	}
	kv := &etcdKV{cli: cli, prefix: c.Prefix, timeout: c.RequestTimeout, desc: loc,
		lim: limits{ops: c.MaxTxnOps, bytes: c.MaxRequestBytes * 2 / 3, value: c.MaxRequestBytes / 3}}
	kv.locks = newEtcdLocks(kv, c.LockTTL)
	s := &Store{kv: kv, path: loc}
	fail := func(err error) (*Store, error) {
		cli.Close()
		return nil, err
	}
	if err := kv.ping(ctx); err != nil {
		return fail(fmt.Errorf("open store: %w", err))
	}
	if readOnly {
		if err := s.checkVersion(); err != nil {
			return fail(err)
		}
		return s, nil
	}
	// A prefix with keys but no stamp is someone else's.
	var foreign bool
	err = kv.view(func(r reader) error {
		app, err := r.get(metaBucket, keyApp)
		if err != nil || app != nil {
			return err
		}
		snap := r.(*etcdSnap)
		resp, err := snap.rangeGet("count "+c.Prefix, c.Prefix+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			return err
		}
		foreign = resp.Count > 0
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if foreign {
		return fail(fmt.Errorf("%s: %w", loc, ErrForeign))
	}
	if err := s.prepare(); err != nil {
		return fail(err)
	}
	return s, nil
}
