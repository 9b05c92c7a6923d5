package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
)

// companySettings are the frePPLe addon's per-company settings the gateway
// itself needs. They come from Odoo's res.company where the addon's fields
// exist (Odoo is where administrators change them), else from the
// configuration file's companies section.
type companySettings struct {
	WebtokenKey        string
	DiscloseStackTrace bool
}

// settingsTTL is how long settings read from Odoo are reused.
const settingsTTL = time.Minute

type settingsCache struct {
	mu sync.Mutex
	m  map[string]settingsEntry // database \x00 company
}

type settingsEntry struct {
	s       companySettings
	expires time.Time
}

// settings returns a company's settings. A failure to read Odoo (fields
// missing, access refused, Odoo down) falls back to the file: settings
// must not turn an error page or a login into a second failure.
func (s *Server) settings(ctx context.Context, sess *odoo.Session, company string) companySettings {
	file := s.cfg.Companies[company]
	out := companySettings{WebtokenKey: file.WebtokenKey, DiscloseStackTrace: file.DiscloseStackTrace}
	if sess == nil || company == "" {
		return out
	}
	key := sess.DB + "\x00" + company
	now := s.now()
	s.companySettings.mu.Lock()
	e, ok := s.companySettings.m[key]
	s.companySettings.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.s
	}
	fields, err := sess.FieldsGet(ctx, "res.company")
	if err != nil {
		s.logFrom(ctx).Debug("company settings: fields_get failed; using the configuration file", "company", company, "err", err)
		return out
	}
	var want []string
	for _, f := range []string{"webtoken_key", "disclose_stack_trace"} {
		if _, ok := fields[f]; ok {
			want = append(want, f)
		}
	}
	if len(want) > 0 {
		recs, err := sess.SearchRead(ctx, "res.company", odoo.Domain{odoo.Term("name", "=", company)}, odoo.Query{Fields: want, Limit: 1})
		if err != nil {
			s.logFrom(ctx).Debug("company settings: read failed; using the configuration file", "company", company, "err", err)
			return out
		}
		if len(recs) == 1 {
			r := recs[0]
			if r.Has("webtoken_key") && r.String("webtoken_key") != "" {
				out.WebtokenKey = r.String("webtoken_key")
			}
			if r.Has("disclose_stack_trace") {
				out.DiscloseStackTrace = r.Bool("disclose_stack_trace")
			}
		}
	}
	s.companySettings.mu.Lock()
	if s.companySettings.m == nil {
		s.companySettings.m = map[string]settingsEntry{}
	}
	s.companySettings.m[key] = settingsEntry{s: out, expires: now.Add(settingsTTL)}
	s.companySettings.mu.Unlock()
	return out
}
