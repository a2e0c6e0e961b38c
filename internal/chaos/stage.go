package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"unionmall/internal/chaos/harness"
	"unionmall/internal/db"
)

// instanceNames name the instances in order.
const instanceNames = "ABCDEFGH"

// stage is what a run stands on: PostgreSQL (a cluster of its own unless
// given one), the run's database, migrated, the run's WeChat Pay
// (provider.go), and the instances of the server binary on them.
type stage struct {
	cfg       *Config
	cluster   *harness.Cluster // nil: a server we cannot restart
	drop      func() error     // the run's database
	db        *db.DB           // for the setup, settling and the audit
	pay       *provider
	instances []*harness.Instance
}

// setStage builds (or takes) the binary and sets the stage up; what it
// set up before an error is still to be closed.
func setStage(ctx context.Context, cfg *Config) (*stage, error) {
	st := &stage{cfg: cfg}
	if cfg.WorkDir == "" {
		dir, err := os.MkdirTemp("", "mall-chaos-")
		if err != nil {
			return st, err
		}
		cfg.WorkDir = dir
		cfg.logf("chaos: logs in %s", cfg.WorkDir)
	} else if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return st, err
	}
	if cfg.Bin == "" {
		cfg.logf("chaos: building the server (tags %q)", cfg.BuildTags)
		bin, err := harness.Build(cfg.WorkDir, cfg.BuildTags...)
		if err != nil {
			return st, err
		}
		cfg.Bin = bin
	}
	base, err := st.postgres()
	if err != nil {
		return st, err
	}
	dbURL, drop, err := harness.CreateDatabase(base, "chaos")
	if err != nil {
		return st, err
	}
	st.drop = drop
	if err := harness.Migrate(cfg.Bin, dbURL); err != nil {
		return st, err
	}
	target, err := db.Parse(dbURL)
	if err != nil {
		return st, err
	}
	if st.db, err = db.Open(ctx, target); err != nil {
		return st, err
	}
	if st.pay, err = startProvider(cfg.WorkDir); err != nil {
		return st, err
	}
	err = st.startInstances(dbURL)
	st.pay.lb.set(st.instances)
	return st, err
}

// postgres is the server to create the run's database on: cfg.Postgres
// (with its cluster when PGData is given), or a new cluster of our own.
func (st *stage) postgres() (base string, err error) {
	cfg := st.cfg
	if cfg.Postgres == "" {
		if st.cluster, err = harness.NewCluster(64 + 40*cfg.Instances); err != nil {
			return "", err
		}
		return st.cluster.URL("postgres"), nil
	}
	if cfg.PGData != "" {
		u, err := url.Parse(cfg.Postgres)
		if err != nil {
			return "", err
		}
		port, err := strconv.Atoi(u.Port())
		if err != nil {
			port = 5432
		}
		if st.cluster, err = harness.ExistingCluster(cfg.PGData, port); err != nil {
			return "", err
		}
	}
	return cfg.Postgres, nil
}

func (st *stage) startInstances(dbURL string) error {
	cfg := st.cfg
	for i := range cfg.Instances {
		in, err := harness.StartInstance(harness.InstanceConfig{
			Name: instanceNames[i : i+1], Bin: cfg.Bin, DatabaseURL: dbURL, LogDir: cfg.WorkDir,
			Env: append([]string{
				"PAYMENT_WINDOW=" + cfg.PaymentWindow.String(),
				"ADMIN_PHONE=" + adminPhone, "ADMIN_PASSWORD=" + adminPassword,
				"PASSWORD_HASH_MEMORY=64", "TRUST_PROXY=true",
			}, st.pay.env...),
		}, 30*time.Second)
		if in != nil {
			st.instances = append(st.instances, in)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (st *stage) urls() []string {
	out := make([]string, len(st.instances))
	for i, in := range st.instances {
		out[i] = in.URL
	}
	return out
}

// close stops the instances (keeping the ends of their logs in res) and
// then the run's WeChat Pay, drops the database and stops a cluster of our
// own (keeping its log in the work directory).
func (st *stage) close(res *Result) error {
	for _, in := range st.instances {
		in.Stop(5 * time.Second)
		res.Logs[in.Name] = in.LogTail(20000)
	}
	if st.pay != nil {
		st.pay.close()
	}
	var err error
	if st.db != nil {
		st.db.Close()
	}
	if st.drop != nil {
		err = st.drop()
	}
	if st.cluster != nil {
		if log := st.cluster.Log(); log != "" {
			err = errors.Join(err, os.WriteFile(filepath.Join(st.cfg.WorkDir, "postgres.log"), []byte(log), 0o644))
		}
		st.cluster.Close()
	}
	if err != nil {
		return fmt.Errorf("chaos: closing the stage: %w", err)
	}
	return nil
}
